package ssl

import (
	"bytes"
	"testing"
)

// helloSeed is a ClientHello message: a GREASE cipher, curves, point
// formats, and an empty extension last.
var helloSeed = func() []byte {
	ext := []byte{0, 0x0a, 0, 6, 0, 4, 0x2a, 0x2a, 0, 0x1d, 0, 0x0b, 0, 2, 1, 0, 0, 0x0d, 0, 2, 0, 0, 0, 0x17, 0, 0}
	body := append([]byte{3, 3}, make([]byte, 32)...)
	body = append(body, 0, 0, 4, 0x0a, 0x0a, 0xc0, 0x2b, 1, 0, 0, byte(len(ext)))
	body = append(body, ext...)
	return append([]byte{1, 0, 0, byte(len(body))}, body...)
}()

func TestParseClientHello(t *testing.T) {
	h := ParseClientHello(helloSeed, 64)
	if h == nil {
		t.Fatal("no capture")
	}
	part := func(off, l int) []byte { return h.Data[off : off+l] }
	if got := part(h.CipherOff, h.CipherLen); !bytes.Equal(got, []byte{0x0a, 0x0a, 0xc0, 0x2b}) {
		t.Errorf("ciphers %x", got)
	}
	// The empty extension that ends the list is not read, as HAProxy
	// reads them.
	if got := part(h.ExtOff, h.ExtLen); !bytes.Equal(got, []byte{0, 0x0a, 0, 0x0b, 0, 0x0d}) {
		t.Errorf("extensions %x", got)
	}
	if got := part(h.ECOff, h.ECLen); !bytes.Equal(got, []byte{0x2a, 0x2a, 0, 0x1d}) {
		t.Errorf("curves %x", got)
	}
	if got := part(h.ECFOff, h.ECFLen); !bytes.Equal(got, []byte{0}) {
		t.Errorf("point formats %x", got)
	}
	// Cut at 7 bytes: the ciphers, one extension type, one byte of curves.
	h = ParseClientHello(helloSeed, 7)
	if len(h.Data) != 7 || h.ExtLen != 2 || h.ECLen != 1 || h.ECFLen != 0 {
		t.Errorf("cut capture %x ext %d ec %d ecf %d", h.Data, h.ExtLen, h.ECLen, h.ECFLen)
	}
	if ParseClientHello(helloSeed[:40], 64) != nil {
		t.Error("a message cut before its ciphers gave a capture")
	}
}

// Any input: no panic, every part within the capture, never more than
// its size.
func FuzzParseClientHello(f *testing.F) {
	f.Add(helloSeed, 64)
	f.Add(helloSeed, 3)
	f.Fuzz(func(t *testing.T, m []byte, size int) {
		size = size & 0xfff
		h := ParseClientHello(m, size)
		if h == nil {
			return
		}
		if len(h.Data) > size {
			t.Fatalf("%d bytes kept for a size of %d", len(h.Data), size)
		}
		for _, p := range [][2]int{{h.CipherOff, h.CipherLen}, {h.ExtOff, h.ExtLen}, {h.ECOff, h.ECLen}, {h.ECFOff, h.ECFLen}} {
			if p[0] < 0 || p[1] < 0 || p[0]+p[1] > len(h.Data) {
				t.Fatalf("part %v out of %d bytes", p, len(h.Data))
			}
		}
	})
}
