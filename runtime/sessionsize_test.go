package runtime

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/gohap/gohap/runtime/h1"
)

// The session is allocated per connection and per HTTP/2 stream, and a
// parked connection keeps it without its scratch: it stays within the
// allocator's 4,096-byte size class, the next one being 4,864 bytes. Its
// messages parse a usual head into the scratch's header tables.
func TestSessionSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(session{}); n > 4096 {
		t.Fatalf("session is %d bytes, past the 4096-byte size class", n)
	}
	if n := unsafe.Sizeof(session{}) + unsafe.Sizeof(streamScratch{}); n > 8192 {
		t.Fatalf("session and scratch are %d bytes, past 8192", n)
	}
	head := []byte("GET / HTTP/1.1\r\n" + strings.Repeat("x-h: v\r\n", len(streamScratch{}.reqHdrs)) + "\r\n")
	s := &session{streamScratch: new(streamScratch)}
	allocs := testing.AllocsPerRun(100, func() {
		s.req = h1.Msg{Headers: s.reqHdrs[:0]}
		if err := h1.ParseRequest(head, &s.req, 100); err != nil || len(s.req.Headers) != len(s.reqHdrs) {
			t.Fatalf("%v, %d headers", err, len(s.req.Headers))
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing a head of %d headers allocated %v times", len(s.reqHdrs), allocs)
	}
}
