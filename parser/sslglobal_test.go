package parser

import (
	"strings"
	"testing"
	"time"
)

// The global TLS settings keep what HAProxy 2.6 keeps: tune.ssl.lifetime
// is in seconds when no unit is given, ssl-server-verify takes "none" or
// "required" only, and default options are kept only when every word is
// one HAProxy knows.
func TestSSLGlobalModel(t *testing.T) {
	for _, f := range []struct {
		lines    string
		lifetime time.Duration
		verify   string
		bindOpts int
		msg      string
	}{
		{" tune.ssl.lifetime 300\n", 300 * time.Second, "", 0, ""},
		{" tune.ssl.lifetime 10ms\n", time.Second, "", 0, ""},
		{" tune.ssl.lifetime 2m\n", 2 * time.Minute, "", 0, ""},
		{" tune.ssl.lifetime 0\n", 0, "", 0, ""},
		{" tune.ssl.lifetime x\n", 0, "", 0, "parsing [p.cfg:2] : unexpected character 'x' in argument to <tune.ssl.lifetime>."},
		{" ssl-server-verify none\n", 0, "none", 0, ""},
		{" ssl-server-verify nope\n", 0, "", 0, "parsing [p.cfg:2] : 'ssl-server-verify' expects 'none' or 'required' as argument."},
		{" ssl-default-bind-options no-sslv3 ssl-min-ver TLSv1.2\n", 0, "", 3, ""},
		{" ssl-default-bind-options no-sslv3 no-tls13\n", 0, "", 0, "parsing [p.cfg:2] : unknown option 'no-tls13' on global statement 'ssl-default-bind-options'."},
	} {
		c, got := parseGlobal(f.lines)
		if got != f.msg {
			t.Errorf("%q:\n got %q\nwant %q", f.lines, got, f.msg)
		}
		if c == nil {
			continue
		}
		s := c.Global.SSL
		if s.Lifetime != f.lifetime || s.ServerVerify != f.verify || len(s.BindOptions) != f.bindOpts {
			t.Errorf("%q: lifetime %v verify %q bind options %q", f.lines, s.Lifetime, s.ServerVerify, s.BindOptions)
		}
	}
}

// A bound on TLS connections changes what clients see: run refuses it
// rather than ignore it. The record size bounds are kept.
func TestSSLGlobalRefusals(t *testing.T) {
	c, msg := parseGlobal(" maxsslconn 10\n tune.ssl.maxrecord 1400\n tune.ssl.hard-maxrecord 2800\n tune.ssl.capture-buffer-size 96\n")
	if msg != "" {
		t.Fatalf("unexpected diagnostic %q", msg)
	}
	var got []string
	for _, r := range c.Refusals() {
		got = append(got, r.Name)
	}
	if want := "maxsslconn"; strings.Join(got, " ") != want {
		t.Errorf("refused %q, want %q", got, want)
	}
	if s := c.Global.SSL; s.MaxRecord != 1400 || s.HardMaxRecord != 2800 {
		t.Errorf("maxrecord %d, hard-maxrecord %d", s.MaxRecord, s.HardMaxRecord)
	}
}

// tune.ssl.cachesize 0 disables the session cache, unlike no setting; the
// DH settings keep what the binds' warnings need.
func TestSSLGlobalCacheAndDH(t *testing.T) {
	for _, f := range []struct {
		lines    string
		size     int
		set      bool
		dhParam  int
		dhBits   int
		wantDiag bool
	}{
		{"", 0, false, 0, 0, false},
		{" tune.ssl.cachesize 0\n", 0, true, 0, 0, false},
		{" tune.ssl.cachesize 500\n", 500, true, 0, 0, false},
		{" tune.ssl.default-dh-param 1024\n", 0, false, 1024, 0, false},
		{" tune.ssl.default-dh-param 512\n", 0, false, 512, 0, true},
		{" tune.ssl.default-dh-param -3\n", 0, false, 4294967293, 0, false},
		{" ssl-dh-param-file testdata/dh2048.pem\n", 0, false, 0, 2048, false},
	} {
		c, got := parseGlobal(f.lines)
		if (got != "") != f.wantDiag {
			t.Errorf("%q: %q", f.lines, got)
		}
		if c == nil {
			continue
		}
		s := c.Global.SSL
		if s.CacheSize != f.size || s.CacheSizeSet != f.set || s.DefaultDHParam != f.dhParam || s.DHParamBits != f.dhBits {
			t.Errorf("%q: cachesize %d set %v dh-param %d dh bits %d", f.lines, s.CacheSize, s.CacheSizeSet, s.DefaultDHParam, s.DHParamBits)
		}
	}
}
