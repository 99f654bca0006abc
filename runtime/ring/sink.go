package ring

import (
	"sync"
	"sync/atomic"

	"github.com/gohap/gohap/parser/logfmt"
)

// Sink is a named destination of events (HAProxy's struct sink): a ring
// buffer, or a file descriptor for the built-in stdout and stderr.
type Sink struct {
	Name, Desc string
	// Ring is nil for a descriptor sink.
	Ring *Ring
	// Format is the header the events get; MaxLen cuts each event.
	Format logfmt.SyslogFormat
	MaxLen int
	// Announce serialises the "N events dropped" message with the
	// writers, so that it lands where the events were lost.
	Announce sync.RWMutex
	dropped  atomic.Uint32
}

// Type is the sink's type as "show events" names it.
func (s *Sink) Type() string {
	if s.Ring == nil {
		return "fd"
	}
	return "buffer"
}

// Dropped is the number of events lost and not announced yet.
func (s *Sink) Dropped() uint32 { return s.dropped.Load() }

// Drop counts a lost event.
func (s *Sink) Drop() { s.dropped.Add(1) }

// Announced takes n announced events off the count.
func (s *Sink) Announced(n uint32) { s.dropped.Add(^(n - 1)) }

// Builtin returns the sinks HAProxy creates before reading its
// configuration (sink_init), in its order. buf0 holds 1 MB.
func Builtin() []*Sink {
	return []*Sink{
		{Name: "stdout", Desc: "standard output (fd#1)", Format: logfmt.SyslogRaw, MaxLen: 16384},
		// HAProxy 2.6 describes stderr so too.
		{Name: "stderr", Desc: "standard output (fd#2)", Format: logfmt.SyslogRaw, MaxLen: 16384},
		{Name: "buf0", Desc: "in-memory ring buffer", Format: logfmt.SyslogTimed, MaxLen: 16384, Ring: New(1048576)},
	}
}
