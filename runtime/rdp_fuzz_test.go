package runtime

import (
	"bytes"
	"testing"

	"github.com/gohap/gohap/backend"
)

// FuzzRDPCookie feeds arbitrary client data to the RDP cookie reader: it
// must not panic, a value it finds lies in the data and ends at the CRLF,
// and data that is too short stays so for every shorter prefix.
func FuzzRDPCookie(f *testing.F) {
	f.Add([]byte("\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Cookie: mstshash=bob\r\n\x01\x00"), "mstshash")
	f.Add([]byte("\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Cookie: msts=16777343.12618.0000\r\n"), "msts")
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		v, res := rdpCookie(data, name)
		if res == rdpFound {
			i := bytes.Index(data, v)
			if i < 0 || i+len(v)+2 > len(data) || data[i+len(v)] != '\r' || data[i+len(v)+1] != '\n' {
				t.Fatalf("value %q is not followed by CRLF in %q", v, data)
			}
		}
		for n := 0; n < len(data) && res == rdpTooShort; n++ {
			if _, r := rdpCookie(data[:n], name); r != rdpTooShort {
				t.Fatalf("prefix %d of too-short data gave %d", n, r)
			}
		}
		srv := &backend.Server{Addr: "127.0.0.1:18993"}
		rdpPersistTarget(data, name, []*backend.Server{srv})
	})
}
