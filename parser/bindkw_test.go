package parser

import "testing"

// Bind options get the messages of HAProxy 2.6's bind_parse_* functions
// (checked against haproxy -c by cmd/gohap's differential test).
func TestBindOptionMessages(t *testing.T) {
	const head = "defaults\n mode http\nfrontend fe\n bind 127.0.0.1:8081 id 5\n "
	pre := "'bind 127.0.0.1:8080' in section 'frontend' : "
	for _, c := range []struct{ opts, want string }{
		{"accept-proxy", ""},
		{"accept-proxy x", "'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'x'."},
		{"acept-proxy", "'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'acept-proxy'; did you mean 'accept-proxy' maybe ?"},
		{"quic-force-retry", "'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'quic-force-retry'."},
		{"backlog", pre + "'backlog' : missing value"},
		{"backlog -1", pre + "'backlog' : invalid value -1, must be > 0"},
		{"accept-netscaler-cip x", pre + "'accept-netscaler-cip' : invalid value 0, must be >= 0"},
		{"accept-netscaler-cip -1", ""},
		{"alpn", pre + "'alpn' : missing the comma-delimited ALPN protocol suite"},
		{"id x", pre + "'id' : expects an integer argument, found 'x'"},
		{"id 0", pre + "'id' : custom id has to be > 0"},
		{"id 5", pre + "'id' : custom id 5 already used at c.cfg:4 ('bind 127.0.0.1:8081')"},
		{"id 6 id 7", pre + "'id' : custom id 7 already used at c.cfg:5 ('bind 127.0.0.1:8080')"},
		{"level x", pre + "'level' only supports 'user', 'operator', and 'admin' (got 'x')"},
		{"proto nosuch", pre + "'proto' :  unknown MUX protocol 'nosuch'"},
		{"shards 0", pre + "'shards' : invalid value 0, allowed range is 1..64 or 'by-thread'"},
		{"tcp-ut 10x", pre + "'tcp-ut' : expects a positive delay in milliseconds"},
		{"tcp-ut 99999999999", pre + "timer overflow in argument '99999999999' to 'tcp-ut' (maximum value is 2147483647 ms or ~24.8 days)"},
		{"thread 0", pre + "'0' : '0' is not a valid number/range. It supports numbers from 1 to 64."},
		{"thread x", pre + "'x' : 'x' is not a valid number/range."},
		{"thread 2/1", pre + "'2/1' thread-group number must be between 1 and 1 (was 2)"},
		{"thread 1 thread 1/1", pre + "'1/1' multiple thread-groups are not supported"},
		{"process 2", pre + "'process' : '2' is not a valid number/range. It supports numbers from 1 to 1."},
		{"process 1/1", ""},
		{"verify x", pre + "'verify' : unknown verify method 'x', only 'none', 'optional', and 'required' are supported"},
		{"ssl-min-ver x", pre + "'x' : unknown ssl/tls version"},
		{"crt-list /nonexistent/gohap", pre + "'crt-list' : cannot open file '/nonexistent/gohap' : No such file or directory"},
	} {
		if got := lineAlert(head + "bind 127.0.0.1:8080 " + c.opts + "\n"); got != c.want {
			t.Errorf("%s\n got  %q\n want %q", c.opts, got, c.want)
		}
	}
	// "process" on a bind line warns and the line is kept.
	_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(head + "bind 127.0.0.1:8080 process 1/1\n")}}, Options{})
	want := pre + "'process 1/1' on 'bind' lines is deprecated and will be removed in 2.7. Please use 'thread 1' instead."
	found := false
	for _, d := range ds {
		found = found || d.Severity == Warning && d.Msg == want
	}
	if !found {
		t.Errorf("no warning %q in %v", want, ds)
	}
}

// A stats socket's options are bind options, with cli.c's wording.
func TestStatsSocketOptionMessages(t *testing.T) {
	sock := t.TempDir() + "/s.sock"
	for _, c := range []struct{ opts, want string }{
		{"level admin expose-fd listeners", ""},
		{"bogus", "'stats socket' : unknown keyword 'bogus'."},
		{"acept-proxy", "'stats socket' : unknown keyword 'acept-proxy'. Did you mean 'accept-proxy' maybe ?"},
		{"level x", "'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got 'x')'"},
		{"process 2", "'stats socket' : ''process' : '2' is not a valid number/range. It supports numbers from 1 to 1.\n'"},
		{"mode x", "'stats socket' : ''mode' : missing or invalid mode 'x' (octal integer expected)'"},
		{"id 3 id 4", "'stats socket' : ''id' : custom id 4 already used at c.cfg:2 ('bind " + sock + "')'"},
	} {
		cfg := "global\n stats socket " + sock + " " + c.opts + "\n"
		if got := lineAlert(cfg); got != c.want {
			t.Errorf("%s\n got  %q\n want %q", c.opts, got, c.want)
		}
	}
}
