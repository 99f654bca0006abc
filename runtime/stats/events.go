package stats

import (
	"fmt"
	"strings"
	"time"

	"github.com/gohap/gohap/runtime/ring"
)

// EventSource gives the CLI the event sinks: HAProxy's built-in ones and
// the ring sections, in HAProxy's order.
type EventSource interface {
	EventSinks() []*ring.Sink
}

// maxEvent is the largest event "show events" prints: its output buffer
// (BUFSIZE) holds the event and a newline.
const maxEvent = 16384 - 1

func eventCommands() []command {
	return []command{
		{words: []string{"show", "events"}, usage: "show events [<sink>] [-w] [-n]          : show event sink state", run: (*session).showEvents},
	}
}

// showEvents is "show events [<sink>] [-w] [-n]" (src/sink.c
// cli_parse_show_events, src/ring.c cli_io_handler_show_ring): without a
// sink, the list of sinks; with one, its events, oldest first or (-n)
// only new ones, and with -w the events to come until a key is pressed.
func (ss *session) showEvents(args []string) bool {
	var sinks []*ring.Sink
	if es, ok := ss.srv.src.(EventSource); ok {
		sinks = es.EventSinks()
	}
	name := arg(args, 2)
	if name == "" {
		var b strings.Builder
		b.WriteString("Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n")
		for _, s := range sinks {
			fmt.Fprintf(&b, "    %-10s : type=%s, %d dropped, %s\n", s.Name, s.Type(), s.Dropped(), s.Desc)
		}
		ss.out.WriteString(b.String())
		return false
	}
	if ss.level < LevelOperator {
		return false
	}
	var s *ring.Sink
	for _, k := range sinks {
		if k.Name == name {
			s = k
			break
		}
	}
	if s == nil {
		ss.out.WriteString("No such event sink")
		return false
	}
	if s.Ring == nil {
		ss.out.WriteString("Nothing to report for this sink")
		return false
	}
	wait, seekNew := false, false
	for _, a := range args[3:] {
		switch a {
		case "-w":
			wait = true
		case "-n":
			seekNew = true
		case "-nw", "-wn":
			wait, seekNew = true, true
		default:
			ss.out.WriteString("unknown option")
			return false
		}
	}
	rd := s.Ring.Attach()
	if rd == nil {
		ss.out.WriteString("Sorry, too many watchers (255) on this ring buffer. What could it have so interesting to attract so many watchers ?")
		return false
	}
	defer rd.Detach()
	rd.Start(seekNew)
	for ss.dumpEvents(rd) {
		if ss.flush() != nil {
			return true
		}
	}
	if !wait {
		return false
	}
	return ss.waitEvents(s.Ring, rd)
}

// dumpEvents writes the reader's next events to the session, a batch at
// a time: the ring is not held while the client reads. It reports
// whether more events wait.
func (ss *session) dumpEvents(rd *ring.Reader) bool {
	batch := make([]byte, 0, 16384)
	more := false
	rd.Read(maxEvent, func(msg []byte) bool {
		if len(batch) > 0 && len(batch)+len(msg)+1 > cap(batch) {
			more = true
			return false
		}
		batch = append(append(batch, msg...), '\n')
		return true
	})
	ss.out.Write(batch)
	return more
}

// flush sends the output so far within the CLI timeout.
func (ss *session) flush() error {
	if ss.conn != nil {
		ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.timeout))
	}
	return ss.out.Flush()
}

// waitEvents prints the events as they come. Input from the client ends
// the command once the next event is printed, as HAProxy's handler
// only sees the input when an event wakes it up; the input is discarded.
// A client that goes away ends the session.
func (ss *session) waitEvents(r *ring.Ring, rd *ring.Reader) bool {
	if ss.in == nil || ss.conn == nil {
		return false
	}
	// One goroutine at a time watches the input; it is stopped before
	// the session reads again.
	key := make(chan error, 1)
	watching := false
	watch := func() {
		watching = true
		go func() {
			_, err := ss.in.Peek(1)
			key <- err
		}()
	}
	defer func() {
		if watching {
			ss.conn.SetReadDeadline(time.Now())
			<-key
		}
	}()
	ss.conn.SetReadDeadline(time.Time{})
	watch()
	pressed := false
	for {
		wake := r.Wait()
		more := ss.dumpEvents(rd)
		if ss.flush() != nil {
			return true
		}
		if more {
			continue
		}
		if pressed {
			return false
		}
		for waiting := true; waiting; {
			select {
			case <-wake:
				waiting = false
			case err := <-key:
				watching = false
				if err != nil {
					return true
				}
				ss.in.Discard(ss.in.Buffered())
				pressed = true
				watch()
			}
		}
	}
}
