package runtime_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// BenchmarkProxyH2 is an HTTP/2 stream through the engine: a prior
// knowledge client on a "proto h2" bind sends GETs ten streams at a time
// on one connection. The client allocates nothing, so allocs/op is the
// proxy's per stream.
func BenchmarkProxyH2(b *testing.B) {
	c := h2BenchConn(b)
	r := newH2Rounds(c)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += h2Batch {
		r.round(b)
	}
}

// TestH2StreamAllocs checks the engine's allocations per HTTP/2 stream:
// only the frame x/net/http2 makes for each HEADERS frame it reads. The
// stream with the engine's own per-stream state, and its session, are
// those of an earlier stream (h2.FreeStream).
func TestH2StreamAllocs(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector allocates on its own")
	}
	c := h2BenchConn(t)
	r := newH2Rounds(c)
	// The first round adds the authority to the decoder's table and
	// warms the pools.
	r.round(t)
	allocs := testing.AllocsPerRun(50, func() { r.round(t) }) / h2Batch
	t.Logf("%.2f allocations per stream", allocs)
	if allocs > 1.5 {
		t.Fatalf("%.2f allocations per stream, want at most 1", allocs)
	}
}

const h2Batch = 10

func h2BenchConn(tb testing.TB) net.Conn {
	fe := freePort(tb)
	up := fixedUpstream(tb)
	startGohap(tb, fmtCfg(baseDefaults+"frontend fe\n bind %s proto h2\n default_backend be\nbackend be\n server s1 %s\n", fe, up), nil)
	c, err := net.Dial("tcp", fe)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	pre := []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	if _, err := c.Write(pre); err != nil {
		tb.Fatal(err)
	}
	return c
}

// h2Rounds sends GETs h2Batch streams at a time and reads their answers,
// encoding and parsing frames by hand without allocating.
type h2Rounds struct {
	c                 net.Conn
	block, out        []byte
	hdr, buf, ack, wu []byte
	id                uint32
	credit            int
}

func newH2Rounds(c net.Conn) *h2Rounds {
	// :method GET, :scheme http, :path /, :authority example.com
	// (literal with incremental indexing: later requests find it in
	// the decoder's table as browsers' do).
	block := append([]byte{0x82, 0x86, 0x84, 0x41, 11}, "example.com"...)
	return &h2Rounds{c: c, block: block, out: make([]byte, 0, h2Batch*(9+len(block))),
		hdr: make([]byte, 9), buf: make([]byte, 1<<16), ack: []byte{0, 0, 0, 4, 1, 0, 0, 0, 0},
		wu: []byte{0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0}, id: 1}
}

func (r *h2Rounds) round(tb testing.TB) {
	c := r.c
	r.out = r.out[:0]
	for i := 0; i < h2Batch; i++ {
		r.out = append(r.out, 0, 0, byte(len(r.block)), 1, 5)
		r.out = binary.BigEndian.AppendUint32(r.out, r.id)
		r.out = append(r.out, r.block...)
		r.id += 2
	}
	if _, err := c.Write(r.out); err != nil {
		tb.Fatal(err)
	}
	for ended := 0; ended < h2Batch; {
		if _, err := io.ReadFull(c, r.hdr); err != nil {
			tb.Fatal(err)
		}
		n := int(r.hdr[0])<<16 | int(r.hdr[1])<<8 | int(r.hdr[2])
		if _, err := io.ReadFull(c, r.buf[:n]); err != nil {
			tb.Fatal(err)
		}
		switch typ, flags := r.hdr[3], r.hdr[4]; {
		case typ == 4 && flags&1 == 0:
			c.Write(r.ack)
		case typ == 3 || typ == 7:
			tb.Fatalf("frame type %d", typ)
		case (typ == 0 || typ == 1) && flags&1 != 0:
			ended++
			if typ == 0 {
				r.credit += n
			}
		case typ == 0:
			r.credit += n
		}
	}
	// The authority is now entry 62 of the decoder's table.
	r.block = append(r.block[:3], 0xbe)
	if r.credit > 16384 {
		binary.BigEndian.PutUint32(r.wu[9:], uint32(r.credit))
		c.Write(r.wu)
		r.credit = 0
	}
}
