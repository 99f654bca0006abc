package runtime_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// BenchmarkProxyH2 is an HTTP/2 stream through the engine: a prior
// knowledge client on a "proto h2" bind sends GETs ten streams at a time
// on one connection. The client encodes and parses frames by hand and
// allocates nothing, so allocs/op is the proxy's per stream.
func BenchmarkProxyH2(b *testing.B) {
	benchFE := freePort(b)
	up := fixedUpstream(b)
	startGohap(b, fmtCfg(baseDefaults+"frontend fe\n bind %s proto h2\n default_backend be\nbackend be\n server s1 %s\n", benchFE, up), nil)
	c, err := net.Dial("tcp", benchFE)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// :method GET, :scheme http, :path /, :authority example.com
	// (literal, not indexed).
	block := append([]byte{0x82, 0x86, 0x84, 0x01, 11}, "example.com"...)
	const batch = 10
	out := make([]byte, 0, batch*(9+len(block)))
	pre := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	if _, err := c.Write(pre); err != nil {
		b.Fatal(err)
	}
	hdr := make([]byte, 9)
	buf := make([]byte, 1<<16)
	ack := []byte{0, 0, 0, 4, 1, 0, 0, 0, 0}
	wu := []byte{0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	id := uint32(1)
	credit := 0
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		out = out[:0]
		for i := 0; i < batch; i++ {
			out = append(out, 0, 0, byte(len(block)), 1, 5)
			out = binary.BigEndian.AppendUint32(out, id)
			out = append(out, block...)
			id += 2
		}
		if _, err := c.Write(out); err != nil {
			b.Fatal(err)
		}
		for ended := 0; ended < batch; {
			if _, err := io.ReadFull(c, hdr); err != nil {
				b.Fatal(err)
			}
			n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
			if _, err := io.ReadFull(c, buf[:n]); err != nil {
				b.Fatal(err)
			}
			switch typ, flags := hdr[3], hdr[4]; {
			case typ == 4 && flags&1 == 0:
				c.Write(ack)
			case typ == 3 || typ == 7:
				b.Fatalf("frame type %d", typ)
			case (typ == 0 || typ == 1) && flags&1 != 0:
				ended++
				if typ == 0 {
					credit += n
				}
			case typ == 0:
				credit += n
			}
		}
		if credit > 16384 {
			binary.BigEndian.PutUint32(wu[9:], uint32(credit))
			c.Write(wu)
			credit = 0
		}
		done += batch
	}
}
