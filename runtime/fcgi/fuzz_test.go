package fcgi

import (
	"bytes"
	"io"
	"testing"
)

// FuzzDecode reads arbitrary bytes as records and their name-value
// pairs: no input may panic, and every record read lies inside the input.
func FuzzDecode(f *testing.F) {
	f.Add(AppendStream(AppendBeginRequest(nil, 1, RoleResponder, 0), TypeParams, 1, AppendParam(nil, "a", "b")))
	f.Add([]byte{1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		total := 0
		for {
			h, c, err := r.Next()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && err != ErrVersion {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			total += HeaderSize + int(h.Length) + int(h.Padding)
			if total > len(data) || len(c) != int(h.Length) {
				t.Fatalf("record beyond the input: %d > %d", total, len(data))
			}
			ParseEndRequest(c)
			for rest := c; len(rest) > 0; {
				var err error
				if _, _, rest, err = NextParam(rest); err != nil {
					break
				}
			}
		}
	})
}
