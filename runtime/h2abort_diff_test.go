package runtime_test

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// HTTP/2 streams cut short, as HAProxy logs and counts them: a client
// that resets its stream while the response body comes, one that closes
// its connection then, and a server that closes in the body.
func TestH2AbortsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	up := cutShortUpstream(t)
	// how: "rst" resets the stream once its response began, "close"
	// closes the connection then, "" reads until the stream ends.
	cases := []struct{ path, how string }{{"/big", "rst"}, {"/big", "close"}, {"/close", ""}, {"/post", "post-rst"}}
	sideBySide(t, func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fe, sock := startStatsFE(t, start, ` option dontlognull
 log %s local0
 log-format "%%HM %%HU %%ST %%tsc"
backend be
 server s1 %s
`, sink.addr(), up)
		var out []string
		for _, cs := range cases {
			c, fr, block := dialH2(t, fe)
			if cs.how == "post-rst" {
				// A request body the client gives up.
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
					BlockFragment: block(":method", "POST", ":scheme", "http", ":authority", "x", ":path", cs.path, "content-length", "10")})
				fr.WriteData(1, false, []byte("abc"))
				time.Sleep(100 * time.Millisecond)
				fr.WriteRSTStream(1, http2.ErrCodeCancel)
			} else {
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true,
					BlockFragment: block(":method", "GET", ":scheme", "http", ":authority", "x", ":path", cs.path)})
			}
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					break
				}
				if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
					fr.WriteSettingsAck()
				}
				if _, ok := f.(*http2.HeadersFrame); ok && cs.how == "rst" {
					fr.WriteRSTStream(1, http2.ErrCodeCancel)
				}
				if _, ok := f.(*http2.HeadersFrame); ok && cs.how == "close" {
					break
				}
				if _, ok := f.(*http2.RSTStreamFrame); ok {
					break
				}
				if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
			c.Close()
			out = append(out, sink.message(3*time.Second))
		}
		out = append(out, statColumns(cliSend(t, "unix", sock, "show stat\n"), "eresp", "cli_abrt", "srv_abrt")[1:]...)
		return strings.Join(out, "\n")
	})
}
