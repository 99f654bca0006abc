package runtime_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestNoH2UpgradeDifferential: without the implicit upgrade to HTTP/2
// ("option disable-h2-upgrade", or a "proto h1" bind), the HTTP/2 preface
// is a request whose PRI method HAProxy's stream refuses with its 400, as
// it refuses any PRI request. The bytes the client reads and the log
// line agree with HAProxy's.
func TestNoH2UpgradeDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	cases := []struct{ name, opt, bind, req string }{
		{"option", "option disable-h2-upgrade", "", preface},
		{"proto-h1", "", "proto h1", preface},
		{"pri-request", "", "", "PRI /x HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"pri-request-option", "option disable-h2-upgrade", "", "PRI /x HTTP/1.1\r\nHost: a\r\n\r\n"},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sideBySide(t, func(start func(cfg, fe string)) string { return noUpgradeRun(t, c.opt, c.bind, c.req, start) })
		})
	}
}

func noUpgradeRun(t *testing.T, opt, bind, req string, start func(cfg, fe string)) string {
	logs := newLogSink(t)
	addr := freePort(t)
	start(fmt.Sprintf(`%s    log %s local0
    log-format "%%ST %%tsc %%{+Q}r %%b/%%s"
    option dontlognull
frontend f
    bind %s %s
    %s
    default_backend b
backend b
    server s1 127.0.0.1:1
`, diffDefaults, logs.addr(), addr, bind, opt), addr)
	c := dialRaw(t, addr)
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	line, _ := logs.next(2 * time.Second)
	if i := strings.Index(line, "]: "); i >= 0 {
		line = line[i+3:]
	}
	return fmt.Sprintf("%q | %s", b, strings.TrimSpace(line))
}
