package runtime_test

import (
	"io"
	"testing"
	"time"
)

// An HTTP/2 request's version is 2.0 for req.ver, the HTTP_2.0 predefined
// ACL and the log, and the logged target is the absolute one, although
// gohap serves the stream as HTTP/1.1 inside: as HAProxy shows them.
func TestHTTP2RequestVersionDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for the version")
	}
	run := func(start func(cfg, fe string)) string {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fmtCfg("global\n log %s local0\n"+baseDefaults+"frontend fe\n bind %s proto h2\n log global\n log-format \"%%r %%HV\"\n"+
			" http-request return status 200 hdr x-ver \"%%[req.ver]\" hdr x-h2 \"%%[str(yes)]\" if HTTP_2.0\n"+
			" http-request return status 200 hdr x-ver \"%%[req.ver]\"\n", sink.addr(), fe), fe)
		for _, ok := sink.next(300 * time.Millisecond); ok; _, ok = sink.next(300 * time.Millisecond) {
		}
		c := h2cClient(3 * time.Second)
		defer c.CloseIdleConnections()
		r, err := c.Get("http://" + fe + "/x?y=1")
		if err != nil {
			return err.Error()
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		l, _ := sink.next(2 * time.Second)
		return r.Proto + " " + r.Header.Get("x-ver") + " " + r.Header.Get("x-h2") + " | " + logPort.ReplaceAllString(maskLog(l), "127.0.0.1:PORT")
	}
	ref := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != ref {
		t.Errorf("haproxy %q\ngohap   %q", ref, got)
	}
	t.Logf("both %q", ref)
}
