package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// condExprs are -cc expressions run through both binaries.
var condExprs = []string{
	"1", "0", "-1", "2", "!1", "! ! 1", "1 && 0", "1 || 0", "0 || 0",
	"1 && 1 || 0 && streq(x,y)", "(0) || (1)", "((1))", "!(1 && 0)",
	"version_atleast(2.5-dev0)", "version_atleast(2.6)", "version_atleast(2.6.12)",
	"version_atleast(2.6.13)", "version_atleast(3.0)", "version_before(2.6)",
	"version_before(2.7)", "version_before(2.6.13)", "version_atleast()", "version_atleast(abc)",
	"defined(HOME)", "defined(GOHAP_SURELY_UNSET)", "defined(HAPROXY_LOCALPEER)",
	"streq(a,a)", "streq(a,b)", "strneq(a,b)", "strneq(a,a)", `streq("a b","a b")`,
	`streq('a',"a")`, "streq($HOME,$HOME)", `streq("${HOME}",x)`, "", "   ",
	"foo(", "foo()", "(1", "1 )", ")", "1 &&", "&& 1", "1 1", "streq(a,b",
	`"a`, "'a", `\xZZ`, "x#y", `streq(a\,b,a\,b)`, "foo", `\x41`, "streq()",
	"1\n0", "0\n1", "feature(THREAD)", "feature(NOTHING)", "200rrr", "!(0))", "-1000 && 200",
	"1&&!0&&!((streq(a,b)||!streq(a,a)&&1)||strneq(a,a))", "feature(OPENSSL) || !feature(OPENSSL)",
	// gohap's TLS answers as the OpenSSL 3.0 it follows, "3.0.17" and
	// "3.0.16" reading above it as in HAProxy.
	"openssl_version_atleast(3.0.0)", "openssl_version_atleast(3.0.16)", "openssl_version_atleast(1.1.1)",
	"openssl_version_atleast(1.1.1k)", "openssl_version_atleast(3.0.0-beta2)", "openssl_version_before(3.1.0)",
	"openssl_version_before(1.1.1)", "ssllib_name_startswith(OpenSSL)", "ssllib_name_startswith(BoringSSL)",
	"ssllib_name_startswith()", "feature(OPENSSL) && ssllib_name_startswith(OpenSSL) && openssl_version_atleast(1.1.1)",
}

// knownCondDiffs are the expressions whose exit code the parser's .if
// evaluator (parser/cond.go) gets wrong today.
var knownCondDiffs = map[string]string{
	"foo":              "a bare word is true instead of unparsable",
	`\x41`:             "a bare word is true instead of unparsable",
	`streq(a\,b,a\,b)`: "arguments are split on escaped commas too",
	"streq()":          "missing predicate arguments are not an error",
	"feature()":        "an empty feature name is false (HAProxy finds it in its list)",
	"feature(LUA)":     "by design: gohap has no Lua",
	"feature(EPOLL)":   "by design: Go's poller, not HAProxy's",
	"feature(PCRE2)":   "by design: Go's regexps, without PCRE's look-arounds",
}

// TestCondAsHAProxy compares -cc's exit codes, and the kind of error,
// with the reference binary's.
func TestCondAsHAProxy(t *testing.T) {
	bin := refHAProxy(t)
	exprs := append([]string{}, condExprs...)
	for e := range knownCondDiffs {
		exprs = append(exprs, e)
	}
	for _, e := range exprs {
		hcode, _, herr := haproxyOut(t, bin, "-cc", e)
		code, _, errOut := runCLI("-cc", e)
		why, known := knownCondDiffs[e]
		switch {
		case known && why != "":
			if code == hcode {
				t.Errorf("-cc %q: exit %d as haproxy now: drop it from knownCondDiffs", e, code)
			}
			continue
		case code != hcode:
			t.Errorf("-cc %q: exit %d, haproxy %d\n%s\nhaproxy:\n%s", e, code, hcode, errOut, herr)
			continue
		}
		g, h := noPid(errOut), noPid(herr)
		if g == h {
			continue
		}
		// The error kind is ours to match; the evaluator's own words are
		// the parser's.
		kind := func(s string) string {
			_, k, _ := strings.Cut(s, "config : ")
			k, _, _ = strings.Cut(k, ": ")
			return k
		}
		if kind(g) != kind(h) || !strings.HasPrefix(g, "[ALERT]    : config : ") {
			t.Errorf("-cc %q:\n%s\nhaproxy:\n%s", e, g, h)
		} else {
			t.Logf("-cc %q: parser wording differs:\n  %s\n  %s", e, strings.TrimSpace(g), strings.TrimSpace(h))
		}
	}
}

// TestCondRegTest runs HAProxy's reg-tests/startup/check_condition.vtc.
func TestCondRegTest(t *testing.T) {
	t.Setenv("TESTVAR", "1")
	for _, e := range []string{"version_atleast(2.4)", "streq(foo,'foo')", `streq("foo bar",'foo bar')`,
		`defined(TESTVAR) && streq("$TESTVAR","1")`, "feature(OPENSSL) || !feature(OPENSSL)",
		"1&&!0&&!((streq(a,b)||!streq(a,a)&&1)||strneq(a,a))",
		"1   &&!   0&&    !((streq(a,b)||!streq(a,a)&&1)||strneq(a,a))",
		"1 && !0 && !((streq(a,b) || !streq(a,a) && 1) || strneq(a,a))", "-1000 && 200"} {
		if code, _, errOut := runCLI("-cc", e); code != 0 {
			t.Errorf("-cc %q: exit %d, want 0\n%s", e, code, errOut)
		}
	}
	for _, e := range []string{"version_atleast(1024)", "streq(foo,bar)",
		"1 && !0 && !((streq(a,b) || !streq(a,a) && 1) || strneq(a,b))",
		"1 && !0 && !((streq(a,a) || !streq(a,a) && 1) || strneq(a,a))", "", "200rrr", "!(0))", `streq(a,"a)`} {
		if code, _, _ := runCLI("-cc", e); code == 0 {
			t.Errorf("-cc %q: exit 0, want non-zero", e)
		}
	}
}

// TestCondAnswers checks -cc's own answers: gohap presents itself as
// HAProxy 2.6 and reports only features it has.
func TestCondAnswers(t *testing.T) {
	t.Setenv("GOHAP_CC_VAR", "x y")
	for expr, want := range map[string]int{
		"version_atleast(2.5-dev0)": 0, "version_atleast(2.6)": 0, "version_before(2.7)": 0,
		"version_atleast(2.7)": 1, "feature(OPENSSL)": 0, "feature(LUA)": 1, "feature(LINUX_SPLICE)": 0,
		"feature(QUIC)": 1, "feature(THREAD)": 0, "feature(PROMEX)": 0, `streq("$GOHAP_CC_VAR","x y")`: 0,
		`defined(GOHAP_CC_VAR) && !defined(GOHAP_CC_NONE)`: 0, "streq(a#b,a#b)": 0,
		"": 1, "1\n0": 0, `"a`: 2, "(1": 2,
		"openssl_version_atleast(3.0.0)": 0, "openssl_version_before(3.0.0)": 1, "ssllib_name_startswith(OpenSSL 3.0)": 0,
		"openssl_version_atleast(abc)": 2, "openssl_version_atleast(3.0)": 2, "openssl_version_before()": 2,
	} {
		if code, _, errOut := runCLI("-cc", expr); code != want {
			t.Errorf("-cc %q: exit %d, want %d\n%s", expr, code, want, errOut)
		}
	}
	code, _, errOut := runCLI("-cc", `streq("a`)
	if code != 2 || !strings.HasSuffix(errOut, "[ALERT]    ("+pid()+") : config : Syntax Error in condition: Unmatched quote.\n") {
		t.Errorf("unmatched quote: exit %d\n%s", code, errOut)
	}
	// -vv lists the same features as feature() answers.
	_, out, _ := runCLI("-vv")
	for _, f := range []string{"+OPENSSL", "-LUA", "+THREAD", "+LINUX_SPLICE", "-PCRE2", "+SLZ", "+PROMEX"} {
		if !strings.Contains(out, " "+f+" ") {
			t.Errorf("-vv feature list lacks %s:\n%s", f, out)
		}
	}
}

// featureProbes are, per feature, a frontend line that needs it.
var featureProbes = map[string]string{
	"OPENSSL":      "bind 127.0.0.1:18443 ssl crt CRT",
	"SLZ":          "compression algo gzip",
	"PCRE2":        "http-request deny if { path -m reg ^/(?=a) }",
	"PROMEX":       "http-request use-service prometheus-exporter",
	"LUA":          "http-request lua.x",
	"TFO":          "bind 127.0.0.1:18443 tfo",
	"LINUX_TPROXY": "bind 127.0.0.1:18443 transparent",
	"NETFILTER":    "http-request set-mark 1",
	"LINUX_SPLICE": "option splice-response",
}

// TestFeaturesAreRun: feature(X) is true exactly when this binary runs
// what X stands for, as 'gohap -c' (the runtime's answer) tells.
func TestFeaturesAreRun(t *testing.T) {
	dir := t.TempDir()
	crt := writeSelfSigned(t, dir)
	for feat, line := range featureProbes {
		line = strings.ReplaceAll(line, "CRT", crt)
		f := writeCfg(t, dir, feat+".cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"+
			"frontend fe\n bind 127.0.0.1:18080\n "+line+"\n default_backend be\nbackend be\n server s 127.0.0.1:1\n")
		runs, _, errOut := runCLI("-c", "-q", "-f", f)
		has, _, _ := runCLI("-cc", "feature("+feat+")")
		if (runs == 0) != (has == 0) {
			t.Errorf("feature(%s) exit %d, but 'gohap -c' with %q exits %d\n%s", feat, has, line, runs, errOut)
		}
	}
}

// writeSelfSigned writes a certificate and its key in one PEM file.
func writeSelfSigned(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
	p := filepath.Join(dir, "crt.pem")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
