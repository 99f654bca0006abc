package runtime_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// dialH2 opens an HTTP/2 connection to addr with a 3 s deadline and
// sends the preface with settings; block encodes header fields (name,
// value...) into a header block.
func dialH2(t *testing.T, addr string, settings ...http2.Setting) (c net.Conn, fr *http2.Framer, block func(...string) []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, http2.ClientPreface)
	fr = http2.NewFramer(c, c)
	fr.WriteSettings(settings...)
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	block = func(kv ...string) []byte {
		buf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	return c, fr, block
}

// h2Exchange opens an HTTP/2 connection to addr, acknowledges the
// server's SETTINGS, has send write frames, then reads until the server
// closes or goes quiet for a moment.
func h2Exchange(t *testing.T, addr string, send func(fr *http2.Framer, block func(...string) []byte)) {
	t.Helper()
	c, fr, block := dialH2(t, addr)
	defer c.Close()
	// The server's SETTINGS acknowledged before anything else, so that
	// the acknowledgement is read whatever send makes of the connection.
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no SETTINGS from the server: %v", err)
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			fr.WriteSettingsAck()
			break
		}
	}
	send(fr, block)
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
			fr.WriteSettingsAck()
		}
	}
}

var h2StatCols = []string{"h2_headers_rcvd", "h2_data_rcvd", "h2_settings_rcvd", "h2_rst_stream_rcvd",
	"h2_goaway_rcvd", "h2_detected_conn_protocol_errors", "h2_detected_strm_protocol_errors",
	"h2_rst_stream_resp", "h2_goaway_resp", "h2_open_connections", "h2_backend_open_streams",
	"h2_total_connections", "h2_backend_total_streams"}

// diffH2Stats runs cfg (a format taking the stats socket and the
// frontend's address) in HAProxy then in gohap, has exercise drive each,
// and compares their h2 module columns once done says they settled.
func diffH2Stats(t *testing.T, cfg string, exercise func(fe, sock string, gohap bool), done func(rows []string) bool) {
	t.Helper()
	dir := t.TempDir()
	run := func(name string, start func(cfg, fe string)) string {
		fe := freePort(t)
		sock := filepath.Join(dir, name+".sock")
		start(fmt.Sprintf(cfg, sock, fe), fe)
		exercise(fe, sock, name == "g")
		var rows []string
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rows = statColumns(cliSend(t, "unix", sock, "show stat\n"), h2StatCols...)
			if done(rows) || time.Now().After(deadline) {
				break
			}
		}
		return strings.Join(rows, "\n")
	}
	ref := run("h", func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run("g", func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("h2 module columns:\nhaproxy:\n%s\ngohap:\n%s", ref, got)
	}
	t.Logf("h2 module columns (gohap):\n%s", got)
}

// The h2 module's columns of "show stat" count a frontend's HTTP/2
// frames, errors, connections and streams as HAProxy's do: requests with
// and without a body, a stream reset by the client, a body longer than
// its content-length, a CONTINUATION out of sequence, a bad preface.
func TestH2StatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := startEcho(t, "s1")
	get := []string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"}
	post := func(cl string) []string {
		return []string{":method", "POST", ":scheme", "http", ":path", "/p", ":authority", "x", "content-length", cl}
	}
	cfg := `global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s proto h2
 default_backend be
backend be
 server s1 ` + up.Addr() + "\n"
	diffH2Stats(t, cfg, func(fe, _ string, gohap bool) {
		if gohap {
			// startHAProxy's wait for the port is a connection closed
			// before its preface, which HAProxy counts.
			if c, err := net.DialTimeout("tcp", fe, time.Second); err == nil {
				c.Close()
			}
		}
		// Two requests, the second with a body; GOAWAY at the end.
		h2Exchange(t, fe, func(fr *http2.Framer, block func(...string) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(get...), EndStream: true, EndHeaders: true})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(post("3")...), EndHeaders: true})
			fr.WriteData(3, true, []byte("abc"))
			time.Sleep(100 * time.Millisecond)
			fr.WriteGoAway(0, http2.ErrCodeNo, nil)
		})
		// A stream the client resets, then a body longer than announced.
		h2Exchange(t, fe, func(fr *http2.Framer, block func(...string) []byte) {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(post("10")...), EndHeaders: true})
			fr.WriteRSTStream(1, http2.ErrCodeCancel)
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block(post("2")...), EndHeaders: true})
			fr.WriteData(3, true, []byte("abc"))
		})
		// CONTINUATION with no HEADERS before it.
		h2Exchange(t, fe, func(fr *http2.Framer, block func(...string) []byte) {
			fr.WriteContinuation(1, true, block(get...))
		})
		// Not a preface.
		if c, err := net.DialTimeout("tcp", fe, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			io.ReadAll(c)
			c.Close()
		}
	}, func(rows []string) bool {
		return strings.Contains(rows[0], "h2_open_connections=0 h2_backend_open_streams=0")
	})
}

// startRawH2Upstream serves HTTP/2 with prior knowledge, frame by frame:
// a request for /bad gets a body shorter than its content-length, any
// other "ok".
func startRawH2Upstream(t *testing.T) string {
	return serveRawH2(t, func(fr *http2.Framer, next func() http2.Frame) {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		dec := hpack.NewDecoder(4096, nil)
		for f := next(); f != nil; f = next() {
			switch f := f.(type) {
			case *http2.HeadersFrame:
				fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
				path := ""
				for _, hf := range fields {
					if hf.Name == ":path" {
						path = hf.Value
					}
				}
				body, cl := "ok", "2"
				if path == "/bad" {
					body, cl = "abc", "5"
				}
				buf.Reset()
				enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				enc.WriteField(hpack.HeaderField{Name: "content-length", Value: cl})
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: buf.Bytes(), EndHeaders: true})
				fr.WriteData(f.StreamID, true, []byte(body))
			}
		}
	})
}

// serveRawH2 serves HTTP/2 with prior knowledge frame by frame: each
// connection's preface is read and SETTINGS sent, then serve reads its
// frames with next, which answers SETTINGS itself and returns nil once
// the connection ends.
func serveRawH2(t *testing.T, serve func(fr *http2.Framer, next func() http2.Frame)) string {
	return serveRaw(t, func(c net.Conn) {
		pre := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(c, pre); err != nil {
			return
		}
		fr := http2.NewFramer(c, c)
		fr.WriteSettings()
		serve(fr, func() http2.Frame {
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					return nil
				}
				if sf, ok := f.(*http2.SettingsFrame); ok {
					if !sf.IsAck() {
						fr.WriteSettingsAck()
					}
					continue
				}
				return f
			}
		})
	})
}

// A backend's h2 module columns count its HTTP/2 server connections as
// HAProxy's do: responses, a body shorter than its content-length, the
// connection and its streams.
func TestH2BackendStatsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	cfg := `global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 http-reuse always
 server s1 ` + startRawH2Upstream(t) + " proto h2\n"
	diffH2Stats(t, cfg, func(fe, sock string, _ bool) {
		for _, path := range []string{"/a", "/b", "/bad", "/c"} {
			// The server connection is back among the idle ones once its
			// stream is gone: under load HAProxy may otherwise open a
			// second one for the next request.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				rows := statColumns(cliSend(t, "unix", sock, "show stat\n"), "h2_backend_open_streams")
				if strings.Contains(rows[len(rows)-1], "h2_backend_open_streams=0") {
					break
				}
			}
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			io.ReadAll(c)
			c.Close()
		}
	}, func(rows []string) bool { return strings.Contains(rows[len(rows)-1], "h2_backend_open_streams=0") })
}
