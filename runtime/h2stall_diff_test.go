package runtime_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// stalledH2Get asks addr for a large answer over HTTP/2 without ever
// opening its flow-control window, and tells how the stream ended
// within 3 s: the frames that came for it and what ended it.
func stalledH2Get(t *testing.T, addr string) string {
	c, fr, block := dialH2(t, addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	defer c.Close()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":method", "GET", ":scheme", "http", ":path", "/size/100000", ":authority", "x"), EndStream: true, EndHeaders: true})
	var got []string
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				got = append(got, "still open after 3s")
			} else {
				got = append(got, "closed")
			}
			break
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			got = append(got, "HEADERS")
		case *http2.DataFrame:
			got = append(got, fmt.Sprintf("DATA %d", len(f.Data())))
		case *http2.RSTStreamFrame:
			got = append(got, "RST_STREAM "+f.ErrCode.String())
		case *http2.GoAwayFrame:
			got = append(got, "GOAWAY "+f.ErrCode.String())
		}
		if n := len(got); n > 0 && (strings.HasPrefix(got[n-1], "RST_STREAM") || strings.HasPrefix(got[n-1], "GOAWAY")) {
			break
		}
	}
	return strings.Join(got, ", ")
}

// An HTTP/2 client that never opens its window for an answer: timeout
// client ends the stream, as in HAProxy, well before timeout server.
// The answer cut short is reset with CANCEL, so that it cannot pass for
// a whole one; HAProxy 2.6 ends it with an empty DATA frame carrying
// END_STREAM (README, "Where gohap answers differently").
func TestH2StalledWindowTimeout(t *testing.T) {
	up := startEcho(t, "s1")
	cfg := func(fe string) string {
		return fmtCfg("defaults\n mode http\n timeout connect 1s\n timeout client 300ms\n timeout server 10s\nfrontend fe\n bind %s proto h2\n default_backend be\nbackend be\n server s1 %s\n", fe, up.Addr())
	}
	fe := freePort(t)
	startGohap(t, cfg(fe), nil)
	if got, want := stalledH2Get(t, fe), "HEADERS, RST_STREAM CANCEL"; got != want {
		t.Errorf("gohap: %s, want %s", got, want)
	}
	if haproxyBin() == "" {
		t.Log("haproxy not installed (set HAPROXY_BIN): gohap alone")
		return
	}
	hfe := freePort(t)
	startHAProxy(t, cfg(hfe), hfe)
	ref := stalledH2Get(t, hfe)
	if strings.HasSuffix(ref, "still open after 3s") {
		t.Errorf("haproxy did not end the stream: %s", ref)
	}
	t.Logf("haproxy: %s", ref)
}
