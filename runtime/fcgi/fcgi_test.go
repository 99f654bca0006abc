package fcgi

import (
	"bytes"
	"io"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendBeginRequest(b, 1, RoleResponder, FlagKeepConn)
	var params []byte
	params = AppendParam(params, "script_name", "/index.php")
	params = AppendParamBytes(params, "HTTP_", []byte("x-my-hdr"), bytes.Repeat([]byte("v"), 200))
	b = AppendStream(b, TypeParams, 1, params)
	b = AppendStream(b, TypeParams, 1, nil)
	body := bytes.Repeat([]byte("b"), MaxContent+10)
	b = AppendStream(b, TypeStdin, 1, body)
	r := NewReader(bytes.NewReader(b))
	h, c, err := r.Next()
	if err != nil || h.Type != TypeBeginRequest || h.ID != 1 || !bytes.Equal(c, []byte{0, 1, 1, 0, 0, 0, 0, 0}) {
		t.Fatalf("begin: %+v %v %v", h, c, err)
	}
	h, c, err = r.Next()
	if err != nil || h.Type != TypeParams {
		t.Fatalf("params: %+v %v", h, err)
	}
	n, v, rest, err := NextParam(c)
	if err != nil || string(n) != "SCRIPT_NAME" || string(v) != "/index.php" {
		t.Fatalf("param 1: %q %q %v", n, v, err)
	}
	n, v, rest, err = NextParam(rest)
	if err != nil || string(n) != "HTTP_X_MY_HDR" || len(v) != 200 || len(rest) != 0 {
		t.Fatalf("param 2: %q %d %v", n, len(v), err)
	}
	if h, c, _ = r.Next(); h.Type != TypeParams || len(c) != 0 {
		t.Fatalf("empty params: %+v", h)
	}
	var got []byte
	for {
		h, c, err = r.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c...)
		if h.Length != MaxContent {
			break
		}
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("stdin: %d bytes", len(got))
	}
	if _, _, err = r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	b := AppendStream(nil, TypeStdout, 1, []byte("hello"))
	r := NewReader(bytes.NewReader(b[:10]))
	if _, _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v", err)
	}
	if _, _, _, err := NextParam([]byte{0x80, 0, 0}); err != ErrShort {
		t.Fatalf("param: %v", err)
	}
	if e, ok := ParseEndRequest([]byte{0, 0, 0, 7, 2, 0, 0, 0}); !ok || e.AppStatus != 7 || e.ProtocolStatus != Overloaded {
		t.Fatalf("end request: %+v", e)
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	body := make([]byte, 1024)
	for i := 0; i < b.N; i++ {
		out := AppendBeginRequest(buf[:0], 1, RoleResponder, FlagKeepConn)
		mark := len(out)
		out = AppendHeader(out, TypeParams, 1, 0, 0)
		out = AppendParam(out, "SCRIPT_NAME", "/index.php")
		out = AppendParamBytes(out, "HTTP_", []byte("user-agent"), []byte("bench"))
		_ = out[mark]
		out = AppendStream(out, TypeStdin, 1, body)
		buf = out
	}
}

func BenchmarkReader(b *testing.B) {
	b.ReportAllocs()
	rec := AppendStream(nil, TypeStdout, 1, make([]byte, 1000))
	src := bytes.NewReader(nil)
	r := NewReader(src)
	for i := 0; i < b.N; i++ {
		src.Reset(rec)
		if _, _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
