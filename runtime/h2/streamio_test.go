package h2

import (
	"bufio"
	"io"
	"net"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// writeCounter counts the writes made on a connection.
type writeCounter struct {
	net.Conn
	n atomic.Int32
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.n.Add(1)
	return w.Conn.Write(p)
}

// TestAnswersGatheredWhileOthersOpen: a stream that sent its END_STREAM
// while another stream is still open leaves its frames for the flush
// that gathers the round, as HAProxy sends once per loop; the last
// stream of the round sends them all in one write. One P, so that the
// order of the goroutines is the scheduler's; it runs the goroutine
// waiting globally before the local ones once in 61 turns, which then
// flushes early: one of a few rounds is enough.
func TestAnswersGatheredWhileOthersOpen(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	var writes []int32
	for range 5 {
		n := gatherRound(t)
		if n == 1 {
			return
		}
		writes = append(writes, n)
	}
	t.Fatalf("the two answers took %v writes, want 1", writes)
}

// gatherRound serves two streams on a new connection, the first
// answering while the second is open, and returns how many writes their
// answers took.
func gatherRound(t *testing.T) int32 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var (
		wc     *writeCounter
		ready  = make(chan struct{})
		second = make(chan struct{})
		before atomic.Int32
		served sync.WaitGroup
	)
	served.Add(2)
	serve := func(st *Stream) {
		defer served.Done()
		st.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := http.ReadRequest(bufio.NewReader(io.LimitReader(st, 1<<10))); err != nil {
			t.Error(err)
			return
		}
		if st.ID() == 3 {
			close(ready)
			<-second
		} else {
			<-ready
			before.Store(wc.n.Load())
			// Stream 3 becomes ready; stream 1 answers and ends first.
			close(second)
		}
		io.WriteString(st, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wc = &writeCounter{Conn: c}
		ServeConn(wc, nil, serve)
	}()
	rc, err := dialRaw(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { rc.close(); <-done }()
	rc.handshake()
	// The server's SETTINGS, acknowledged, and the ACK of ours.
	for acked, got := false, false; !acked || !got; {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := f.(*http2.SettingsFrame); ok {
			if s.IsAck() {
				acked = true
			} else {
				got = true
				rc.fr.WriteSettingsAck()
				rc.flush()
			}
		}
	}
	rc.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")
	rc.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")
	for _, id := range []uint32{1, 3} {
		if got := rc.outcome(id); got != `status 200 "ok"` {
			t.Fatalf("stream %d: %s", id, got)
		}
	}
	served.Wait()
	return wc.n.Load() - before.Load()
}

// TestTryRead: a stream's request is buffered when its serve function
// starts, and TryRead takes it without waiting; with nothing buffered it
// says so and leaves the end of the stream to Read.
func TestTryRead(t *testing.T) {
	type result struct {
		head       string
		ok1, ok2   bool
		n2         int
		readErr    error
		afterWrite error
	}
	got := make(chan result, 1)
	addr := startServer(t, nil, func(st *Stream) {
		st.SetDeadline(time.Now().Add(5 * time.Second))
		var r result
		buf := make([]byte, 1024)
		n, ok := st.TryRead(buf)
		r.head, r.ok1 = string(buf[:n]), ok
		r.n2, r.ok2 = st.TryRead(buf)
		io.WriteString(st, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_, r.readErr = st.Read(buf)
		got <- r
	})
	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	rc.handshake()
	rc.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a")
	if o := rc.outcome(1); o != `status 200 "ok"` {
		t.Fatalf("outcome %s", o)
	}
	r := <-got
	if !r.ok1 || !strings.HasPrefix(r.head, "GET /x HTTP/1.1\r\n") || !strings.HasSuffix(r.head, "\r\n\r\n") {
		t.Fatalf("first TryRead: %v %q", r.ok1, r.head)
	}
	if r.ok2 || r.n2 != 0 {
		t.Fatalf("second TryRead: %v %d", r.ok2, r.n2)
	}
	if r.readErr != io.EOF {
		t.Fatalf("Read after the answer: %v", r.readErr)
	}
}

// TestStreamStart checks the time a stream went to the serve function:
// set, within the exchange, and the same for the streams the frames of
// one write opened, as they are launched together.
func TestStreamStart(t *testing.T) {
	starts := make(chan time.Time, 3)
	addr := startServer(t, nil, func(st *Stream) {
		starts <- st.Start()
		io.WriteString(st, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	rc, err := dialRaw(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	before := time.Now()
	rc.handshake()
	for id := uint32(1); id <= 5; id += 2 {
		rc.headers(id, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")
	}
	rc.flush()
	var got []time.Time
	for len(got) < 3 {
		select {
		case s := <-starts:
			got = append(got, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of 3 streams served", len(got))
		}
	}
	after := time.Now()
	if got[0].Before(before) || got[0].After(after) {
		t.Fatalf("start %v outside [%v, %v]", got[0], before, after)
	}
	for _, s := range got[1:] {
		if !s.Equal(got[0]) {
			t.Fatalf("streams of one write started at %v and %v", got[0], s)
		}
	}
}
