package logging

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2024, 1, 5, 3, 4, 5, 678901000, time.UTC)

func testMeta(host string) *meta {
	return &meta{host: []byte(host), tag: []byte("haproxy"), pid: []byte("42")}
}

func TestHeaders(t *testing.T) {
	t.Setenv("TZ", "UTC")
	cases := []struct {
		f    SyslogFormat
		host string
		want string
	}{
		{SyslogUnspec, "", "<134>Jan  5 03:04:05 haproxy[42]: "},
		{SyslogUnspec, "web1", "<134>Jan  5 03:04:05 web1 haproxy[42]: "},
		{SyslogLocal, "web1", "<134>Jan  5 03:04:05 haproxy[42]: "},
		{SyslogRFC3164, "", "<134>Jan  5 03:04:05 localhost haproxy[42]: "},
		{SyslogRFC5424, "", "<134>1 2024-01-05T03:04:05.678901+00:00 - haproxy 42 - - "},
		{SyslogRFC5424, "web1", "<134>1 2024-01-05T03:04:05.678901+00:00 web1 haproxy 42 - - "},
		{SyslogPriority, "", "<134>"},
		{SyslogShort, "", "<6>"},
		{SyslogTimed, "", "<6>2024-01-05T03:04:05.678901+00:00 "},
		{SyslogISO, "", "2024-01-05T03:04:05.678901+00:00 "},
		{SyslogRaw, "web1", ""},
	}
	for _, c := range cases {
		got := string(appendHeader(nil, c.f, LevelInfo, 16, testMeta(c.host), fixedNow, nil))
		if got != c.want {
			t.Errorf("%v host %q:\n got %q\nwant %q", c.f, c.host, got, c.want)
		}
	}
	m := testMeta("")
	m.sd = []byte(`[a b="c"]`)
	if got, want := string(appendHeader(nil, SyslogRFC5424, LevelErr, 0, m, fixedNow, nil)), `<3>1 2024-01-05T03:04:05.678901+00:00 - haproxy 42 - [a b="c"] `; got != want {
		t.Errorf("sd: got %q want %q", got, want)
	}
}

func TestLenTruncation(t *testing.T) {
	t.Setenv("TZ", "UTC")
	msg := []byte(strings.Repeat("m", 200))
	frame := func(kind Kind, f SyslogFormat, maxLen int) string {
		tg := &target{cfg: TargetConfig{Kind: kind, Format: f, MaxLen: maxLen}}
		return string(tg.frame(nil, LevelInfo, 16, testMeta("web1"), msg, fixedNow))
	}
	hdr := "<134>1 2024-01-05T03:04:05.678901+00:00 web1 haproxy 42 - - " // 60 bytes
	if got, want := frame(UDP, SyslogRFC5424, 80), hdr+strings.Repeat("m", 80-len(hdr))+"\n"; got != want {
		t.Errorf("message cut:\n got %q\nwant %q", got, want)
	}
	// cut inside "haproxy": the whole element goes, LF takes its place
	if got, want := frame(UDP, SyslogRFC5424, 50), "<134>1 2024-01-05T03:04:05.678901+00:00 web1 \n"; got != want {
		t.Errorf("header cut:\n got %q\nwant %q", got, want)
	}
	// a cut exactly at an element's end drops it too
	if got, want := frame(UDP, SyslogRFC5424, 60), "<134>1 2024-01-05T03:04:05.678901+00:00 web1 haproxy 42 - \n"; got != want {
		t.Errorf("boundary cut:\n got %q\nwant %q", got, want)
	}
	if got := frame(FD, SyslogRaw, 80); got != strings.Repeat("m", 79)+"\n" {
		t.Errorf("fd keeps a byte for LF: got %d bytes", len(got))
	}
	if got := frame(UDP, SyslogRaw, 1024); got != string(msg)+"\n" {
		t.Errorf("short line changed: %q", got)
	}
}

func TestSampling(t *testing.T) {
	tc, err := ParseTarget([]string{"log", "127.0.0.1", "sample", "4,1,6-7:8", "local0"})
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{cfg: tc, rgI: make([]uint32, len(tc.Ranges))}
	var got []int
	for i := 1; i <= 24; i++ {
		if tg.sample() {
			got = append(got, i)
		}
	}
	want := []int{1, 4, 6, 7, 9, 12, 14, 15, 17, 20, 22, 23}
	if len(got) != len(want) {
		t.Fatalf("sampled %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sampled %v, want %v", got, want)
		}
	}
}

func recvUDP(t *testing.T, c *net.UDPConn) string {
	t.Helper()
	buf := make([]byte, 70000)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestUDPSender(t *testing.T) {
	t.Setenv("TZ", "UTC")
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tc, err := ParseTarget([]string{"log", ln.LocalAddr().String(), "format", "rfc5424", "local1", "info"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New([]TargetConfig{tc}, Options{Hostname: "h", Tag: "t", PID: 9, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Emit(LevelDebug, -1, []byte("filtered"), nil)
	l.Emit(LevelInfo, -1, []byte("hello\n\x00"), []byte("[x y=\"1\"]  "))
	l.Emit(LevelAlert, 2, []byte("alert"), nil)
	if got, want := recvUDP(t, ln), "<142>1 2024-01-05T03:04:05.678901+00:00 h t 9 - [x y=\"1\"] hello\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if got, want := recvUDP(t, ln), "<17>1 2024-01-05T03:04:05.678901+00:00 h t 9 - - alert\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	// warm every slot, then a line of the same size costs nothing
	for range 1024 {
		l.Emit(LevelInfo, -1, []byte("x"), nil)
	}
	if n := testing.AllocsPerRun(100, func() { l.Emit(LevelInfo, -1, []byte("x"), nil) }); n != 0 {
		t.Errorf("Emit allocates %v times per call", n)
	}
}

func TestUnixDgramSender(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{path, "unix@" + path} {
		tc, err := ParseTarget([]string{"log", addr, "format", "raw", "daemon"})
		if err != nil {
			t.Fatal(err)
		}
		if tc.Kind != UnixDgram || tc.Path != path {
			t.Fatalf("%s parsed as %+v", addr, tc)
		}
		l, err := New([]TargetConfig{tc}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		l.Emit(LevelInfo, -1, []byte("over unix"), nil)
		buf := make([]byte, 1024)
		ln.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := ln.ReadFromUnix(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != "over unix\n" {
			t.Errorf("got %q", got)
		}
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
}

// A target that does not read fills its queue: further lines are dropped
// and counted, Emit stays fast and Close returns within its bound.
func TestDropWhenQueueFull(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	tc, err := ParseTarget([]string{"log", "fd@" + itoa(int(w.Fd())), "len", "65535", "format", "raw", "local0"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New([]TargetConfig{tc}, Options{QueueLen: 4, CloseTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(strings.Repeat("z", 60000))
	start := time.Now()
	for i := 0; i < 50; i++ {
		l.Emit(LevelInfo, -1, big, nil)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Emit blocked for %v", d)
	}
	if l.Dropped() == 0 {
		t.Fatal("no line dropped although the pipe is never read")
	}
	start = time.Now()
	if err := l.Close(); err == nil {
		t.Error("Close reported success with a blocked target")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	before := l.Dropped()
	l.Emit(LevelInfo, -1, []byte("late"), nil)
	if l.Dropped() != before+1 {
		t.Error("a line emitted after Close is not counted as dropped")
	}
	r.Close() // unblocks the writer
	// the descriptor must outlive the writer, or its number could be reused
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("writer still blocked after the pipe closed")
	}
}

func itoa(n int) string { return string(appendUint(nil, uint64(n))) }

// tcp@ targets get what HAProxy's implicit ring forwarder sends: each line
// followed by LF on one connection.
func TestStreamSender(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tc, err := ParseTarget([]string{"log", "tcp@" + ln.Addr().String(), "len", "80", "format", "short", "local0"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := New([]TargetConfig{tc}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("y", 100)
	l.Emit(LevelNotice, -1, []byte("one"), nil)
	l.Emit(LevelInfo, -1, []byte(long), nil)
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(3 * time.Second))
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	want := "<5>one\n<6>" + long[:80] + "\n" // the ring cuts the message alone
	got := make([]byte, 0, len(want))
	buf := make([]byte, 256)
	for len(got) < len(want) {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != want {
		t.Errorf("got %q want %q", got, want)
	}
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}
