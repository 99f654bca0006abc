package h2

import (
	"bufio"
	"io"
	"net"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// benchServe is an in-process engine: it reads the request head and
// answers a small fixed response, reusing its buffer.
func benchServe(st *Stream) {
	var buf [4096]byte
	n := 0
	for h1.HeadEnd(buf[:n], 0) == 0 {
		m, err := st.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
	}
	st.Write(benchResp)
}

var benchResp = []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")

// benchDial returns a connection to a ServeConn of benchServe, both
// closed when b ends.
func benchDial(b *testing.B) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		ServeConn(c, nil, benchServe)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkServeConnGET measures keep-alive GETs through ServeConn: one
// connection, one request at a time, requests per second and
// allocations per request on the server side (the client is a bare
// framer that reuses its buffers).
func BenchmarkServeConnGET(b *testing.B) {
	c := benchDial(b)
	bw := bufio.NewWriter(c)
	fr := http2.NewFramer(bw, bufio.NewReader(c))
	fr.SetReuseFrames()
	bw.WriteString(Preface)
	fr.WriteSettings()
	// Responses are not counted against the connection window.
	fr.WriteWindowUpdate(0, 1<<31-1-65535)
	bw.Flush()
	var hb bytesBuf
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/bench"}, {":authority", "example.com"}, {"user-agent", "bench"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	first := append([]byte(nil), hb...)
	hb = hb[:0]
	// Later requests hit the dynamic table, as a real client's do.
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/bench"}, {":authority", "example.com"}, {"user-agent", "bench"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	again := append([]byte(nil), hb...)
	id := uint32(1)
	roundTrip := func(blk []byte) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: blk, EndStream: true, EndHeaders: true})
		bw.Flush()
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				b.Fatal(err)
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				fr.WriteSettingsAck()
			}
			if f.Header().StreamID == id && f.Header().Flags.Has(http2.FlagDataEndStream) {
				break
			}
		}
		id += 2
	}
	roundTrip(first)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		roundTrip(again)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

type bytesBuf []byte

func (b *bytesBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

var _ io.Writer = (*bytesBuf)(nil)

// BenchmarkClientConnGET measures keep-alive GETs through a ClientConn
// as the engine's server side makes them: a stream per request, the
// HTTP/1.1 request written in, the response read back, allocations per
// request on the client side.
func BenchmarkClientConnGET(b *testing.B) {
	c := benchDial(b)
	cc, err := NewClientConn(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	req := []byte("GET /bench HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\n\r\n")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := cc.Open()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.WriteRequest(req); err != nil {
			b.Fatal(err)
		}
		for {
			_, err := st.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
	}
}
