package runtime

import "testing"

func TestSessionSet(t *testing.T) {
	var ss sessionSet
	s := make([]*session, 4)
	for i := range s {
		s[i] = new(session)
		ss.add(s[i])
	}
	ss.add(s[1]) // already in: no change
	list := func() (out []int) {
		for x := range ss.all {
			for i := range s {
				if s[i] == x {
					out = append(out, i)
				}
			}
		}
		return
	}
	check := func(want ...int) {
		t.Helper()
		got := list()
		if len(got) != len(want) || ss.n != len(want) {
			t.Fatalf("sessions %v (n %d), want %v", got, ss.n, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("sessions %v, want %v", got, want)
			}
		}
	}
	check(0, 1, 2, 3)
	ss.remove(s[0]) // head
	check(1, 2, 3)
	ss.remove(s[3]) // tail
	check(1, 2)
	ss.remove(s[3]) // not in: no change
	check(1, 2)
	ss.add(s[0])
	check(1, 2, 0)
	ss.remove(s[2]) // middle
	check(1, 0)
	ss.remove(s[1])
	ss.remove(s[0])
	check()
	if ss.head != nil || ss.tail != nil {
		t.Fatal("empty set keeps links")
	}
	ss.add(s[2])
	check(2)
	for x := range ss.all {
		if x != s[2] {
			t.Fatal("wrong session")
		}
		break
	}
}
