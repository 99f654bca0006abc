package runtime

import "testing"

// TestRunSessionLastIdle checks that a new session goes to the runner
// that went idle last, whose stack is the one still cached, that the
// engine's stop ends the idle runners.
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
	e.stopRunners()
	if got, ok := <-r1.next; !ok || got != nil || len(e.idleRun) != 0 {
		t.Fatalf("the stop sent the idle runner %v (%v), %d runners left idle", got, ok, len(e.idleRun))
	}
}
