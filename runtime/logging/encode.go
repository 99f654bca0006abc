package logging

import "unsafe"

// byteMap is one of HAProxy's 256-bit encoding maps.
type byteMap [4]uint64

func (m *byteMap) has(c byte) bool { return m[c>>6]&(1<<(c&63)) != 0 }
func (m *byteMap) set(c byte)      { m[c>>6] |= 1 << (c & 63) }

// The maps of init_log() in src/log.c.
var (
	// rfc5424Esc: '"', '\' and ']' get a backslash with +E.
	rfc5424Esc byteMap
	// hdrEnc: captured headers, '#XX' for controls, 8-bit bytes and "#{|}.
	hdrEnc byteMap
	// urlEnc: the request line, '#XX' for controls, 8-bit bytes, '"' and '#'.
	urlEnc byteMap
	// httpEnc: unique-id samples, '%XX' for controls but HTAB, and DEL.
	httpEnc byteMap
)

func init() {
	for _, c := range []byte("\"\\]") {
		rfc5424Esc.set(c)
	}
	for i := 0; i < 256; i++ {
		c := byte(i)
		if c < 32 || c >= 127 {
			hdrEnc.set(c)
			urlEnc.set(c)
		}
		if c <= 0x08 || c >= 0x0a && c <= 0x1f || c == 0x7f {
			httpEnc.set(c)
		}
	}
	for _, c := range []byte("\"#{|}") {
		hdrEnc.set(c)
	}
	for _, c := range []byte("\"#") {
		urlEnc.set(c)
	}
}

// unsafeBytes views s as bytes for read-only use, without copying.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
