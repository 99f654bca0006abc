package runtime_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime"
)

// h2Client is a client HTTP/2 connection that sends GETs one at a time.
type h2Client struct {
	c   net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
	id  uint32
}

func newH2Client(t *testing.T, c net.Conn) *h2Client {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	h := &h2Client{c: c, fr: http2.NewFramer(c, c), id: 1}
	h.enc = hpack.NewEncoder(&h.buf)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	h.fr.WriteSettings()
	return h
}

// headers is the HEADERS frame of a GET for path, as bytes.
func (h *h2Client) headers(path string) []byte {
	h.buf.Reset()
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", path}, {":authority", "a"}} {
		h.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	var out bytes.Buffer
	http2.NewFramer(&out, nil).WriteHeaders(http2.HeadersFrameParam{StreamID: h.id, BlockFragment: h.buf.Bytes(), EndStream: true, EndHeaders: true})
	h.id += 2
	return out.Bytes()
}

// get sends a GET for path, its HEADERS frame written in two parts with
// pause between them, and returns the answer's status once its stream
// ended.
func (h *h2Client) get(path string, pause time.Duration) (int, error) {
	h.c.SetDeadline(time.Now().Add(10 * time.Second))
	f := h.headers(path)
	if _, err := h.c.Write(f[:4]); err != nil {
		return 0, err
	}
	time.Sleep(pause)
	if _, err := h.c.Write(f[4:]); err != nil {
		return 0, err
	}
	return h.await(h.id - 2)
}

func (h *h2Client) await(id uint32) (int, error) {
	dec := hpack.NewDecoder(4096, nil)
	status := 0
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			return 0, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.fr.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			return 0, fmt.Errorf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			return 0, fmt.Errorf("RST_STREAM %v", f.ErrCode)
		case *http2.HeadersFrame:
			if f.StreamID == id && status == 0 {
				fields, _ := dec.DecodeFull(f.HeaderBlockFragment())
				for _, hf := range fields {
					if hf.Name == ":status" {
						fmt.Sscan(hf.Value, &status)
					}
				}
			}
			if f.StreamID == id && f.StreamEnded() {
				return status, nil
			}
		case *http2.DataFrame:
			if f.StreamID == id && f.StreamEnded() {
				return status, nil
			}
		}
	}
}

// goaway reads until the server's GOAWAY and the connection's end.
func (h *h2Client) goaway() error {
	h.c.SetDeadline(time.Now().Add(10 * time.Second))
	seen := false
	for {
		f, err := h.fr.ReadFrame()
		if errors.Is(err, io.EOF) && seen {
			return nil
		}
		if err != nil {
			return err
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			if g.ErrCode != http2.ErrCodeNo {
				return fmt.Errorf("GOAWAY %v", g.ErrCode)
			}
			seen = true
		}
	}
}

// An idle HTTP/2 connection gives up its goroutines, as an idle TLS one
// does (park.go): it is served again on its client's next frames, one
// cut in two across a pause longer than the park's included, and ends
// at its idle timeout, on a soft stop, over TLS as in clear.
func TestH2IdleParks(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	up := startEcho(t, "up").Addr()
	fe, feTO, feTLS := freePort(t), freePort(t), freePort(t)
	e := startGohap(t, fmt.Sprintf(`defaults
 mode http
 timeout connect 1s
 timeout client 60s
 timeout server 60s
frontend fe
 bind %s proto h2
 default_backend be
frontend feto
 timeout client 1500ms
 bind %s proto h2
 default_backend be
frontend fetls
 bind %s ssl crt %s/site.pem alpn h2
 default_backend be
backend be
 server up %s
`, fe, feTO, feTLS, dir, up), nil)
	base := frontGoroutines()
	dial := func(addr string) *h2Client {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return newH2Client(t, c)
	}
	get := func(h *h2Client, pause time.Duration) {
		t.Helper()
		if st, err := h.get("/", pause); err != nil || st != 200 {
			t.Fatalf("GET: %d %v, want 200", st, err)
		}
	}
	t.Run("resume", func(t *testing.T) {
		h := dial(fe)
		get(h, 0)
		waitFronts(t, base, 3*time.Second)
		get(h, 0)
		// The next frame's first bytes wake the connection, the rest
		// comes after a pause longer than the park's: it is read whole.
		waitFronts(t, base, 3*time.Second)
		get(h, 400*time.Millisecond)
		waitFronts(t, base, 3*time.Second)
	})
	t.Run("tls", func(t *testing.T) {
		c, err := tls.Dial("tcp", feTLS, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		h := newH2Client(t, c)
		get(h, 0)
		waitFronts(t, base, 3*time.Second)
		get(h, 0)
		waitFronts(t, base, 3*time.Second)
	})
	t.Run("idle timeout", func(t *testing.T) {
		h := dial(feTO)
		get(h, 0)
		waitFronts(t, base, 3*time.Second)
		regs := runtime.ParkedRegistrations()
		start := time.Now()
		if err := h.goaway(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second || d > 4*time.Second {
			t.Fatalf("closed after %v, want the 1.5s idle timeout", d)
		}
		// Woken by its deadline, not by the parker: the connection's
		// registration goes with it all the same.
		deadline := time.Now().Add(3 * time.Second)
		for runtime.ParkedRegistrations() != regs-1 {
			if time.Now().After(deadline) {
				t.Fatalf("the parker holds %d registrations after the close, want %d", runtime.ParkedRegistrations(), regs-1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("many", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", fe, time.Second)
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				h := newH2Client(t, c)
				for range 6 {
					if st, err := h.get("/", 0); err != nil || st != 200 {
						errs <- fmt.Errorf("GET: %d %v", st, err)
						return
					}
					time.Sleep(time.Duration(150+rand.IntN(150)) * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
	t.Run("soft stop", func(t *testing.T) {
		h := dial(fe)
		get(h, 0)
		waitFronts(t, base, 3*time.Second)
		e.SoftStop()
		if err := h.goaway(); err != nil {
			t.Fatal(err)
		}
		waitEngine(t, e, 5*time.Second)
	})
}

// An idle HTTP/2 client connection ends with GOAWAY at HAProxy's idle
// timeout: timeout http-request before its first stream, http-keep-alive
// or else http-request after one, and timeout client when those are not
// set; HAProxy's closes are the reference.
func TestH2IdleTimeoutDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed")
	}
	up := startEcho(t, "up").Addr()
	// name, its timeouts, whether the client sends a stream.
	cases := []struct {
		name, timeouts string
		stream         bool
	}{
		{"client", " timeout client 1200ms\n", true},
		{"keep-alive", " timeout client 1200ms\n timeout http-keep-alive 250ms\n", true},
		{"request after a stream", " timeout client 1200ms\n timeout http-request 600ms\n", true},
		{"request before one", " timeout client 1200ms\n timeout http-request 600ms\n", false},
		{"client before one", " timeout client 1200ms\n timeout http-keep-alive 250ms\n", false},
	}
	nearest := func(d time.Duration) time.Duration {
		best := time.Duration(0)
		for _, c := range []time.Duration{250 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond} {
			if best == 0 || (d-c).Abs() < (d-best).Abs() {
				best = c
			}
		}
		return best
	}
	sideBySide(t, func(start func(cfg, fe string)) string {
		ports := make([]string, len(cases))
		cfg := "defaults\n mode http\n timeout connect 1s\n timeout server 5s\n"
		for i, c := range cases {
			ports[i] = freePort(t)
			cfg += fmt.Sprintf("frontend fe%d\n%s bind %s proto h2\n default_backend be\n", i, c.timeouts, ports[i])
		}
		start(cfg+"backend be\n server up "+up+"\n", ports[len(ports)-1])
		out := make([]string, len(cases))
		var wg sync.WaitGroup
		for i, c := range cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := net.DialTimeout("tcp", ports[i], time.Second)
				if err != nil {
					out[i] = err.Error()
					return
				}
				defer conn.Close()
				h := &h2Client{c: conn, fr: http2.NewFramer(conn, conn), id: 1}
				h.enc = hpack.NewEncoder(&h.buf)
				io.WriteString(conn, http2.ClientPreface)
				h.fr.WriteSettings()
				if c.stream {
					if st, err := h.get("/", 0); err != nil || st != 200 {
						out[i] = fmt.Sprintf("%s: GET %d %v", c.name, st, err)
						return
					}
				}
				start := time.Now()
				err = h.goaway()
				out[i] = fmt.Sprintf("%s: %v after ~%v", c.name, err, nearest(time.Since(start)))
			}()
		}
		wg.Wait()
		return strings.Join(out, "; ")
	})
}
