package ring

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readAll returns the messages a new reader finds, oldest first.
func readAll(r *Ring) []string {
	rd := r.Attach()
	defer rd.Detach()
	rd.Start(false)
	var out []string
	rd.Read(chunkSize, func(m []byte) bool { out = append(out, string(m)); return true })
	return out
}

// Each message takes its length, its bytes and a counter byte, after
// the ring's first counter byte: a 100-byte ring holds four 20-byte
// messages, the newest ones.
func TestRingKeepsNewest(t *testing.T) {
	r := New(100)
	for i := range 10 {
		if !r.Write(1000, nil, []byte(fmt.Sprintf("message-number-%05d", i))) {
			t.Fatalf("write %d refused", i)
		}
	}
	got := readAll(r)
	want := []string{"message-number-00006", "message-number-00007", "message-number-00008", "message-number-00009"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q want %q", got, want)
	}
}

// Lengths from 240 up take several varint bytes; maxlen cuts the prefix
// and message together; a message that can never fit is refused.
func TestRingLengthsAndMaxlen(t *testing.T) {
	r := New(20000)
	long := strings.Repeat("x", 5000)
	for _, n := range []int{0, 1, 239, 240, 255, 300, 2287, 2288, 5000} {
		if !r.Write(16384, []byte("p:"), []byte(long[:n])) {
			t.Fatalf("write %d refused", n)
		}
	}
	r.Write(10, []byte("prefix-"), []byte("message"))
	got := readAll(r)
	if len(got) != 10 {
		t.Fatalf("%d messages", len(got))
	}
	for i, n := range []int{0, 1, 239, 240, 255, 300, 2287, 2288, 5000} {
		if got[i] != "p:"+long[:n] {
			t.Errorf("message %d: %d bytes", i, len(got[i]))
		}
	}
	if got[9] != "prefix-mes" {
		t.Errorf("cut: %q", got[9])
	}
	if New(50).Write(1000, nil, make([]byte, 49)) {
		t.Error("a message larger than the ring was taken")
	}
	if varintBytes(239) != 1 || varintBytes(240) != 2 || varintBytes(2287) != 2 || varintBytes(2288) != 3 {
		t.Error("varint lengths")
	}
}

// A reader holding the oldest message makes writes that need its room
// fail; once it has read on, they succeed again.
func TestRingReaderHoldsOldest(t *testing.T) {
	r := New(100)
	rd := r.Attach()
	rd.Start(false)
	n := 0
	for r.Write(1000, nil, []byte("0123456789abcdefghij")) {
		n++
	}
	if n != 4 {
		t.Fatalf("%d writes before the ring was full", n)
	}
	var got []string
	rd.Read(chunkSize, func(m []byte) bool { got = append(got, string(m)); return len(got) < 2 })
	if len(got) != 2 {
		t.Fatalf("read %d", len(got))
	}
	// One message read, so one can be overwritten.
	if !r.Write(1000, nil, []byte("0123456789abcdefghij")) || r.Write(1000, nil, []byte("0123456789abcdefghij")) {
		t.Fatal("room after one read")
	}
	rd.Detach()
	if !r.Write(1000, nil, []byte("0123456789abcdefghij")) {
		t.Fatal("write refused with no reader")
	}
	// A reader started with seekNew sees only later messages.
	rd = r.Attach()
	rd.Start(true)
	r.Write(1000, nil, []byte("new"))
	got = nil
	rd.Read(chunkSize, func(m []byte) bool { got = append(got, string(m)); return true })
	if strings.Join(got, ",") != "new" {
		t.Fatalf("seek new: %q", got)
	}
	rd.Detach()
	for range MaxReaders {
		if r.Attach() == nil {
			t.Fatal("reader refused")
		}
	}
	if r.Attach() != nil {
		t.Fatal("256th reader accepted")
	}
}

// receiver accepts connections on loopback and passes on what each
// sends, connection by connection.
type receiver struct {
	ln    net.Listener
	conns chan conn
}

type conn struct {
	net.Conn
	*bufio.Reader
}

func listen(t *testing.T, addr string) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rc := &receiver{ln: ln, conns: make(chan conn, 8)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			rc.conns <- conn{c, bufio.NewReader(c)}
		}
	}()
	return rc
}

func (rc *receiver) next(t *testing.T) conn {
	t.Helper()
	select {
	case c := <-rc.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection")
		return conn{}
	}
}

func readLine(t *testing.T, r conn) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (%q)", err, l)
	}
	return l
}

// readFrame reads one "<len> <msg>" frame.
func readFrame(t *testing.T, r conn) string {
	t.Helper()
	n, err := r.ReadString(' ')
	if err != nil {
		t.Fatal(err)
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil {
		t.Fatalf("frame length %q", n)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r.Reader, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The messages written before the server was reachable go out from the
// oldest once it is, newline-terminated; after the server closes the
// connection the forwarder reconnects and goes on where it was.
func TestForwarderLegacy(t *testing.T) {
	r := New(4096)
	r.Write(1000, []byte("<134>"), []byte("first"))
	r.Write(1000, nil, []byte("second"))
	// A port nothing listens on yet.
	probe, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := probe.Addr().String()
	probe.Close()
	f := Forward(r, Target{Network: "tcp", Addr: addr, Connect: time.Second})
	defer f.Close()
	rc := listen(t, addr)
	c := rc.next(t)
	if l := readLine(t, c) + readLine(t, c); l != "<134>first\nsecond\n" {
		t.Fatalf("got %q", l)
	}
	r.Write(1000, nil, []byte("third"))
	if l := readLine(t, c); l != "third\n" {
		t.Fatalf("got %q", l)
	}
	// The server goes away: the next messages reach the next connection.
	rc.ln.Close()
	rc2 := listen(t, addr)
	waitSent(t, f, 3)
	// The server closes the connection.
	c.Close()
	c2 := rc2.next(t)
	r.Write(1000, nil, []byte("fourth"))
	if l := readLine(t, c2); l != "fourth\n" {
		t.Fatalf("after reconnect: %q", l)
	}
}

func waitSent(t *testing.T, f *Forwarder, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.Sent() < n {
		if time.Now().After(deadline) {
			t.Fatalf("sent %d, want %d", f.Sent(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// log-proto octet-count: each message is sent as "<len> <msg>".
func TestForwarderOctetCount(t *testing.T) {
	r := New(4096)
	rc := listen(t, "127.0.0.1:0")
	f := Forward(r, Target{Network: "tcp", Addr: rc.ln.Addr().String(), OctetCount: true})
	defer f.Close()
	msgs := []string{"a", "<134>Dec  2 13:00:00 host haproxy[1]: hello", strings.Repeat("y", 300)}
	for _, m := range msgs {
		r.Write(16384, nil, []byte(m))
	}
	c := rc.next(t)
	for _, m := range msgs {
		if got := readFrame(t, c); got != m {
			t.Fatalf("got %q want %q", got, m)
		}
	}
}

// A forwarder whose server stopped reading, with no server timeout,
// still stops at once.
func TestForwarderStopsWhileStuck(t *testing.T) {
	r := New(32 << 20)
	rc := listen(t, "127.0.0.1:0")
	f := Forward(r, Target{Network: "tcp", Addr: rc.ln.Addr().String()})
	rc.next(t)
	big := make([]byte, 16000)
	for range 1500 {
		r.Write(16384, nil, big)
	}
	// The socket buffers fill up: the forwarder waits in a write.
	deadline := time.Now().Add(5 * time.Second)
	for prev := uint64(1 << 63); f.Sent() != prev; {
		prev = f.Sent()
		if time.Now().After(deadline) {
			t.Fatal("the forwarder never stopped sending")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if f.Sent() == 1500 {
		t.Fatal("the server took everything: nothing is stuck")
	}
	done := make(chan struct{})
	go func() { f.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the stuck write")
	}
}
