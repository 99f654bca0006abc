package comp

import (
	"bytes"
	"strings"
	"testing"
)

func TestEncoderRoundTrip(t *testing.T) {
	body := []byte(strings.Repeat("compressible text, compressible text; ", 4000))
	pool := NewPool(DefaultLevel)
	for _, a := range []Algo{Gzip, Deflate, RawDeflate, Identity} {
		for round := 0; round < 2; round++ {
			e, err := pool.Get(a)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			// Blocks as they would arrive, each one flushed.
			for p := body; len(p) > 0; {
				n := min(len(p), 7000)
				out, _ = e.Write(out, p[:n])
				out, _ = e.Flush(out)
				p = p[n:]
			}
			out, err = e.Close(out)
			if err != nil {
				t.Fatal(err)
			}
			pool.Put(e)
			got, err := decode(a, out)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%v round %d: decoded %d bytes, err %v", a, round, len(got), err)
			}
			if a != Identity && len(out) >= len(body)/4 {
				t.Errorf("%v: %d bytes out of %d", a, len(out), len(body))
			}
		}
	}
}

// TestEncoderHeaders checks the stream headers: gzip as zlib and libslz
// write it at level 1 (no name, no time, XFL 4, OS Unix), zlib's 78 01.
func TestEncoderHeaders(t *testing.T) {
	for _, c := range []struct {
		a    Algo
		want []byte
	}{
		{Gzip, []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3}},
		{Deflate, []byte{0x78, 0x01}},
	} {
		e := NewEncoder(DefaultLevel)
		e.Reset(c.a)
		out, _ := e.Write(nil, []byte("x"))
		out, _ = e.Close(out)
		if !bytes.HasPrefix(out, c.want) {
			t.Errorf("%v header % x, want % x", c.a, out[:min(len(out), len(c.want))], c.want)
		}
	}
}

func TestEncoderWithoutAlgo(t *testing.T) {
	e := NewEncoder(1)
	if err := e.Reset(None); err == nil {
		t.Error("Reset(None) accepted")
	}
	if _, err := e.Write(nil, []byte("x")); err == nil {
		t.Error("Write without an algorithm accepted")
	}
}

func TestEncoderAllocs(t *testing.T) {
	body := []byte(strings.Repeat("0123456789abcdef", 1024))
	// A reused Encoder, as a Pool hands out once warm (the race detector
	// makes sync.Pool drop items, so the Pool itself is not measured).
	e := NewEncoder(DefaultLevel)
	buf := make([]byte, 0, 64<<10)
	run := func() {
		e.Reset(Gzip)
		buf, _ = e.Write(buf[:0], body)
		buf, _ = e.Flush(buf)
		buf, _ = e.Close(buf)
	}
	run()
	if a := testing.AllocsPerRun(50, run); a > 0 {
		t.Errorf("a warm gzip response allocates %v times", a)
	}
}

func BenchmarkEncoder(b *testing.B) {
	body := []byte(strings.Repeat("<tr><td>row</td><td>some value here</td></tr>\n", 350))
	for _, a := range []Algo{Gzip, Deflate, RawDeflate} {
		b.Run(a.String(), func(b *testing.B) {
			pool := NewPool(DefaultLevel)
			buf := make([]byte, 0, 64<<10)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				e, _ := pool.Get(a)
				buf, _ = e.Write(buf[:0], body)
				buf, _ = e.Close(buf)
				pool.Put(e)
			}
		})
	}
}

func BenchmarkSelect(b *testing.B) {
	cfg := configs["diff"]
	q, s := parseHeads(b, get("User-Agent: curl/8\r\nAccept-Encoding: br;q=1.0, gzip;q=0.8, *;q=0.1\r\n"), etagRsp(`"abc"`))
	b.ReportAllocs()
	for b.Loop() {
		a, _ := cfg.SelectRequest(&q)
		cfg.SelectResponse(a, &q, &s, Limits{})
	}
}
