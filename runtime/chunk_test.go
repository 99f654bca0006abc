package runtime

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gohap/gohap/runtime/h1"
)

// scanAll runs the scanner over b in pieces of step bytes; it returns
// the data bytes, the bytes consumed up to the trailers, and whether
// the last chunk was reached.
func scanAll(b []byte, step int) (data []byte, n int, last bool, err error) {
	var cs chunkScanner
	for off := 0; off < len(b); {
		end := min(off+step, len(b))
		k, d, e := cs.next(b[off:end])
		data = append(data, b[off+k-d:off+k]...)
		n += k
		off += k
		if e != nil {
			return data, n, false, e
		}
		if cs.st == chTrailer {
			return data, n, true, nil
		}
	}
	return data, n, false, nil
}

func TestChunkScanner(t *testing.T) {
	cases := []struct {
		in   string
		data string
		n    int
		last bool
		bad  bool
	}{
		{"5\r\nhello\r\n0\r\n\r\nNEXT", "hello", 13, true, false},
		{"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", "hello", 19, true, false},
		{"A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 18, true, false},
		{"5 \r\nhello\r\n0\r\n\r\n", "hello", 14, true, false},
		{"5\nhello\n0\n\n", "hello", 10, true, false},
		{"0000000000000000000005\r\nhello\r\n0\r\n", "hello", 34, true, false},
		{"2;\nxx\r\n2C\r\n", "xx", 11, false, false},
		{"3 ; a\x01b\r\nabc\r\n0\r\n", "abc", 17, true, false},
		{"zz\r\n", "", 0, false, true},
		{"0x5\r\n", "", 1, false, true},
		{"5\r\nhelloX\r\n", "hello", 8, false, true},
		{"10000000000000\r\n", "", 13, false, true},
		{"5 5\r\n", "", 2, false, true},
		{"5\rx", "", 2, false, true},
		{"5\r\nhel", "hel", 6, false, false},
		{"\r\n", "", 0, false, true},
	}
	for _, c := range cases {
		for _, step := range []int{1, 2, 3, 7, 1 << 20} {
			data, n, last, err := scanAll([]byte(c.in), step)
			if string(data) != c.data || n != c.n || last != c.last || (err != nil) != c.bad {
				t.Errorf("%q step %d: data=%q n=%d last=%v err=%v, want %q %d %v bad=%v", c.in, step, data, n, last, err, c.data, c.n, c.last, c.bad)
			}
		}
	}
}

// FuzzChunkScanner checks that the data and the end of a chunked body
// are found the same however the stream is split, which is what keeps
// both hops agreeing on message boundaries.
func FuzzChunkScanner(f *testing.F) {
	for _, s := range []string{"5\r\nhello\r\n0\r\n\r\n", "1;a=b\r\nx\r\n0\r\nT: 1\r\n\r\n", "ff\r\n", "0\n\n", "5\r\nhelloX"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		d1, n1, l1, e1 := scanAll(data, len(data)+1)
		d2, n2, l2, e2 := scanAll(data, int(step%16)+1)
		if !bytes.Equal(d1, d2) || n1 != n2 || l1 != l2 || (e1 != nil) != (e2 != nil) {
			t.Fatalf("split changes the result: %q %d %v %v vs %q %d %v %v", d1, n1, l1, e1, d2, n2, l2, e2)
		}
		if n1 > len(data) || len(d1) > n1 {
			t.Fatalf("consumed %d of %d, %d data", n1, len(data), len(d1))
		}
		if l1 && !bytes.HasSuffix(data[:n1], []byte("\n")) {
			t.Fatalf("last chunk without a line end: %q", data[:n1])
		}
	})
}

// reframe sends body through copyChunked between two loopback
// connections, in writes of step bytes, and returns what the far side
// read and the copy's error.
func reframe(t *testing.T, body string, step int) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pair := func() (*net.TCPConn, *net.TCPConn) {
		a, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		b, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return a.(*net.TCPConn), b.(*net.TCPConn)
	}
	cw, cr := pair() // client writes, proxy reads
	sw, sr := pair() // proxy writes, server reads
	defer cw.Close()
	defer cr.Close()
	defer sr.Close()
	go func() {
		for i := 0; i < len(body); i += step {
			cw.Write([]byte(body[i:min(i+step, len(body))]))
			time.Sleep(time.Millisecond)
		}
	}()
	src := &side{c: cr, buf: make([]byte, 64), timeout: 2 * time.Second}
	dst := &side{c: sw, wto: 2 * time.Second}
	var co chunkOut
	cerr := copyChunked(src, dst, &co, 100, 16384, nil, false)
	sw.Close()
	sr.SetReadDeadline(time.Now().Add(2 * time.Second))
	got, _ := io.ReadAll(sr)
	return string(got), cerr
}

func TestChunkReframing(t *testing.T) {
	cases := []struct{ in, out string }{
		// The smuggling attempt: a bare LF ends the extension, so the
		// body is 46 bytes and the next hop must see exactly that.
		{"2;\nxx\r\n2C\r\n0\r\n\r\nGET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n",
			"2E\r\nxx0\r\n\r\nGET /admin/secret HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"},
		{"0003;a=b\r\nabc\r\n0\r\nFoo-Bar: x\r\n y\r\nBaz:z\r\n\r\n", "3\r\nabc\r\n0\r\nfoo-bar: x   y\r\nbaz: z\r\n\r\n"},
		{"3 ; x\x01y\r\nabc\n0\n\n", "3\r\nabc\r\n0\r\n\r\n"},
		{"0\r\n\r\n", "0\r\n\r\n"},
	}
	for _, c := range cases {
		got, err := reframe(t, c.in, 1<<20)
		if err != nil || got != c.out {
			t.Errorf("%q: got %q (%v), want %q", c.in, got, err, c.out)
		}
		// In small pieces the chunks differ but the data does not.
		got, err = reframe(t, c.in, 3)
		if err != nil {
			t.Errorf("%q in pieces: %v", c.in, err)
			continue
		}
		wd, _, _, _ := scanAll([]byte(c.out), 1<<20)
		gd, _, last, gerr := scanAll([]byte(got), 1<<20)
		if !bytes.Equal(wd, gd) || !last || gerr != nil || !bytes.HasSuffix([]byte(got), []byte(c.out[bytes.LastIndex([]byte(c.out), []byte("0\r\n")):])) {
			t.Errorf("%q in pieces: %q", c.in, got)
		}
	}
	for _, bad := range []string{"3\r\nabc\r\n0\r\nnocolon\r\n\r\n", "zz\r\n", "3\r\nabcX"} {
		if _, err := reframe(t, bad, 1<<20); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestCheckChunked(t *testing.T) {
	var m h1.Msg
	for s, ok := range map[string]bool{"3\r\nabc\r\n0\r\nT: 1\r\n\r\n": true, "3\r\nab": true, "3\r\nabc\r\n0\r\nbad\r\n\r\n": false, "x": false} {
		if _, err := checkChunked([]byte(s), &m, 100, 16384); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}
