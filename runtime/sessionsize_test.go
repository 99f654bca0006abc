package runtime

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/gohap/gohap/runtime/h1"
)

// The session is allocated per connection and per HTTP/2 stream: it
// stays within the allocator's 8 KiB size class, the next one being
// 9,472 bytes. Its messages parse a usual head into the session's own
// header tables.
func TestSessionSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(session{}); n > 8192 {
		t.Fatalf("session is %d bytes, past the 8192-byte size class", n)
	}
	head := []byte("GET / HTTP/1.1\r\n" + strings.Repeat("x-h: v\r\n", len(session{}.reqHdrs)) + "\r\n")
	s := new(session)
	allocs := testing.AllocsPerRun(100, func() {
		s.req = h1.Msg{Headers: s.reqHdrs[:0]}
		if err := h1.ParseRequest(head, &s.req, 100); err != nil || len(s.req.Headers) != len(s.reqHdrs) {
			t.Fatalf("%v, %d headers", err, len(s.req.Headers))
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing a head of %d headers allocated %v times", len(session{}.reqHdrs), allocs)
	}
}
