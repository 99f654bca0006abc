package h2

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// seedFrames builds a valid client byte stream after the preface.
func seedFrames(f func(fr *http2.Framer, enc *hpack.Encoder, hb *bytes.Buffer)) []byte {
	var out, hb bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	fr.AllowIllegalWrites = true
	fr.WriteSettings()
	f(fr, hpack.NewEncoder(&hb), &hb)
	return out.Bytes()
}

func fields(enc *hpack.Encoder, hb *bytes.Buffer, kv ...string) []byte {
	hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), hb.Bytes()...)
}

// FuzzServerFrames feeds arbitrary frames after a valid preface: the
// server must neither panic nor hang.
func FuzzServerFrames(f *testing.F) {
	f.Add(seedFrames(func(fr *http2.Framer, enc *hpack.Encoder, hb *bytes.Buffer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, EndStream: true,
			BlockFragment: fields(enc, hb, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "e")})
	}))
	f.Add(seedFrames(func(fr *http2.Framer, enc *hpack.Encoder, hb *bytes.Buffer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
			BlockFragment: fields(enc, hb, ":method", "POST", ":scheme", "http", ":path", "/", "content-length", "3")})
		fr.WriteData(1, true, []byte("abc"))
		fr.WriteWindowUpdate(0, 100)
		fr.WritePing(false, [8]byte{})
	}))
	f.Add(seedFrames(func(fr *http2.Framer, enc *hpack.Encoder, hb *bytes.Buffer) {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
			BlockFragment: fields(enc, hb, ":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/", ":authority", "e")})
		fr.WriteData(1, false, []byte("raw"))
		fr.WriteRSTStream(1, http2.ErrCodeCancel)
	}))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		defer a.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			ServeConn(b, &Config{IdleTimeout: time.Second}, func(st *Stream) {
				st.SetDeadline(time.Now().Add(time.Second))
				io.Copy(io.Discard, io.LimitReader(st, 1<<16))
				io.WriteString(st, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			})
		}()
		go io.Copy(io.Discard, a)
		a.SetWriteDeadline(time.Now().Add(time.Second))
		a.Write([]byte(Preface))
		a.Write(in)
		a.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("server did not end")
		}
	})
}

// nullSink takes what the HTTP/1.1 writer produces.
type nullSink struct{ n int }

func (s *nullSink) head(buf []byte, m *h1.Msg) (int, error) {
	switch {
	case m.Status >= 100 && m.Status < 200:
		return bodyNextHead, nil
	case m.Body == h1.BodyLength:
		return bodyLength, nil
	case m.Body == h1.BodyChunked:
		return bodyChunked, nil
	case m.Body == h1.BodyUntilClose:
		return bodyRaw, nil
	}
	return bodyNone, nil
}
func (s *nullSink) data(p []byte, end bool) error        { s.n += len(p); return nil }
func (s *nullSink) trailers(buf []byte, m *h1.Msg) error { return nil }

// FuzzResponseWriter feeds arbitrary HTTP/1.1 responses, split at a
// fuzzed point, to the writer that turns them into frames.
func FuzzResponseWriter(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), uint16(10))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), uint16(30))
	f.Add([]byte("HTTP/1.1 204 No Content\r\n\r\n"), uint16(3))
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nuntil close"), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		var o h1Out
		o.reset(16384, 100)
		var s nullSink
		c := int(cut) % (len(in) + 1)
		if err := o.write(in[:c], &s, false); err != nil {
			return
		}
		o.write(in[c:], &s, false)
	})
}
