package runtime

import "testing"

// TestRunSessionLastIdle checks that a new session goes to the runner
// that went idle last, whose stack is the one still cached, and that a
// runner leaving at the engine's stop finds whether a session is on its
// way to it.
func TestRunSessionLastIdle(t *testing.T) {
	e := &Engine{done: make(chan struct{})}
	r1 := &runnerSlot{next: make(chan *session, 1)}
	r2 := &runnerSlot{next: make(chan *session, 1)}
	e.idleRun = append(e.idleRun, r1, r2)
	s := new(session)
	e.runSession(s)
	select {
	case got := <-r2.next:
		if got != s {
			t.Fatal("the last idle runner got another session")
		}
	default:
		t.Fatal("the last idle runner got nothing")
	}
	if len(r1.next) != 0 || len(e.idleRun) != 1 || e.idleRun[0] != r1 {
		t.Fatalf("idle runners after one hand-over: %d waiting, r1 has %d", len(e.idleRun), len(r1.next))
	}
	if e.leaveIdle(r2) {
		t.Fatal("a runner taken off the idle list left it again")
	}
	if !e.leaveIdle(r1) || len(e.idleRun) != 0 {
		t.Fatal("an idle runner could not leave")
	}
}
