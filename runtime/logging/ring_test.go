package logging

import (
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/runtime/ring"
)

func ringLogger(t testing.TB, s *ring.Sink, words ...string) *Logger {
	t.Helper()
	tc, err := ParseTarget(append([]string{"log", "ring@" + s.Name}, words...))
	if err != nil {
		t.Fatal(err)
	}
	l, err := New([]TargetConfig{tc}, Options{PID: 42, Now: func() time.Time { return fixedNow }, Sinks: map[string]*ring.Sink{s.Name: s}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func ringEvents(s *ring.Sink) []string {
	rd := s.Ring.Attach()
	defer rd.Detach()
	rd.Start(false)
	var out []string
	rd.Read(16383, func(m []byte) bool { out = append(out, string(m)); return true })
	return out
}

// A ring@ line is cut to the line's len, gets the ring's header (with the
// line's facility and level bounds) and is cut to the ring's maxlen.
// ("local1 info notice": nothing less severe than info is sent, nothing
// more severe than notice.)
func TestRingTarget(t *testing.T) {
	t.Setenv("TZ", "UTC")
	s := &ring.Sink{Name: "r", Format: SyslogRFC3164, MaxLen: 60, Ring: ring.New(16384)}
	l := ringLogger(t, s, "len", "80", "local1", "info", "notice")
	l.Emit(LevelInfo, -1, []byte(strings.Repeat("a", 100)), nil)
	l.Emit(LevelDebug, -1, []byte("filtered"), nil)
	l.Emit(LevelErr, 3, []byte("short\n"), nil)
	got := ringEvents(s)
	want := []string{
		"<142>Jan  5 03:04:05 localhost haproxy[42]: " + strings.Repeat("a", 60-44),
		// err, more severe than the minimum level notice, is capped to it.
		"<141>Jan  5 03:04:05 localhost haproxy[42]: short",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// Lines a full ring cannot take (a reader holds the oldest) are dropped,
// counted, and announced before the next line that fits.
func TestRingTargetDrops(t *testing.T) {
	s := &ring.Sink{Name: "r", Format: SyslogRaw, MaxLen: 16384, Ring: ring.New(16384)}
	l := ringLogger(t, s, "local0")
	rd := s.Ring.Attach()
	rd.Start(false)
	line := []byte(strings.Repeat("x", 1000))
	for range 20 {
		l.Emit(LevelInfo, -1, line, nil)
	}
	// A short announcement may fit where a line does not: the sink then
	// counts from zero again, the logger keeps the total.
	if s.Dropped() == 0 || l.Dropped() < uint64(s.Dropped()) {
		t.Fatalf("dropped: sink %d, logger %d", s.Dropped(), l.Dropped())
	}
	n := s.Dropped()
	rd.Read(16383, func([]byte) bool { return true })
	l.Emit(LevelInfo, -1, []byte("after"), nil)
	var got []string
	rd.Read(16383, func(m []byte) bool { got = append(got, string(m)); return true })
	rd.Detach()
	plural := "s"
	if n == 1 {
		plural = ""
	}
	want := []string{itoa(int(n)) + " event" + plural + " dropped", "after"}
	if strings.Join(got, "|") != strings.Join(want, "|") || s.Dropped() != 0 {
		t.Fatalf("got %q want %q (dropped %d)", got, want, s.Dropped())
	}
}

func BenchmarkEmitRing(b *testing.B) {
	s := &ring.Sink{Name: "r", Format: SyslogRFC3164, MaxLen: 16384, Ring: ring.New(1 << 20)}
	l := ringLogger(b, s, "local0")
	msg := []byte(`127.0.0.1:40000 [05/Jan/2024:03:04:05.678] fe be/s1 0/0/0/1/1 200 120 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`)
	b.ReportAllocs()
	for b.Loop() {
		l.Emit(LevelInfo, -1, msg, nil)
	}
}
