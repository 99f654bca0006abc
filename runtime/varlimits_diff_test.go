package runtime_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tune.vars.*-max-size bound the bytes variables hold, HAProxy's way: 80
// per variable plus its text, counted on the request/response, the
// transaction, the session and the process on the way out; a set beyond
// a limit fails, a text that does not fit leaves a boolean behind.
func TestVarLimitsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	a20 := strings.Repeat("a", 20)
	scopes := "global\n tune.vars.txn-max-size 100\n tune.vars.reqres-max-size 90\n" + baseDefaults + "frontend fe\n bind %s\n" +
		" http-request set-var(txn.a) str(" + a20 + ") if { path /1 }\n" +
		" http-request set-var(txn.b) int(1) if { path /1 }\n" +
		" http-request set-var(txn.a) str(" + a20 + ") if { path /2 }\n" +
		" http-request unset-var(txn.a) if { path /2 }\n" +
		" http-request set-var(txn.b) str(" + strings.Repeat("b", 20) + ") if { path /2 }\n" +
		" http-request set-var(req.r) str(0123456789) if { path /3 }\n" +
		" http-request set-var(req.s) str(x) if { path /3 }\n" +
		" http-request set-var(txn.c) int(5) if { path /3 }\n" +
		" http-request set-var(txn.d) str(dd) if { path /4 }\n" +
		" http-request set-var(txn.d) str(" + strings.Repeat("d", 20) + ") if { path /4 }\n" +
		" http-request set-var-fmt(txn.e) \"%%[path]\" if { path /5 }\n" +
		" http-request set-var(txn.e) str(" + strings.Repeat("e", 21) + ") if { path /5 }\n" +
		" http-request set-var(txn.c) int(3) if { path /5 }\n" +
		" http-request set-var(txn.e) str(" + strings.Repeat("e", 20) + ") if { path /5 }\n" +
		" http-request set-var(txn.m) method if { path /6 }\n" +
		" http-request set-var(txn.n) int(1) if { path /6 }\n" +
		" http-request return status 200 hdr x \"%%[var(txn.a)]|%%[var(txn.b)]|%%[var(req.r)]|%%[var(req.s)]|%%[var(txn.c)]|%%[var(txn.d)]|%%[var(txn.e)]|%%[var(txn.m)]|%%[var(txn.n)]\"\n"
	scopeRun := func(fe string) string {
		var out []string
		for _, r := range []string{"GET /1", "GET /2", "GET /3", "GET /4", "GET /5", "GET /6", "FOOBAR /6", "LONGMETHODNAME /6"} {
			got, _ := exchange(t, fe, r+" HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 3*time.Second)
			out = append(out, got)
		}
		return strings.Join(out, "\n")
	}

	// The process's count holds the proc variables (proc.early was set
	// before any limit, so it is not counted; proc.q is created by its
	// mention), every session's and every transaction's: a connection
	// still open keeps another from setting what fits once it closed.
	procs := "global\n set-var proc.early str(eeeeeeeeee)\n tune.vars.sess-max-size 300\n tune.vars.global-max-size 460\n" +
		" set-var proc.p str(pppppppppp)\n" + baseDefaults + "frontend fe\n bind %s\n" +
		" http-request set-var(sess.a) str(aaaaaaaaaa) if { path /s1 }\n" +
		" http-request set-var(txn.t) str(" + strings.Repeat("t", 50) + ") if { path /s1 }\n" +
		" http-request set-var(sess.b) str(" + strings.Repeat("b", 100) + ") if { path /s2 }\n" +
		" http-request set-var(txn.u) int(1) if { path /s2 }\n" +
		" http-request set-var(sess.g) str(" + strings.Repeat("g", 20) + ") if { path /g }\n" +
		" http-request return status 200 hdr x \"%%[var(sess.a)]|%%[var(txn.t)]|%%[var(sess.b)]|%%[var(txn.u)]|%%[var(sess.g)]|%%[var(proc.q)]|%%[var(proc.p)]\"\n"
	procRun := func(fe string) string {
		var out []string
		c1, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c1.Close()
		c1.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c1, "GET /s1 HTTP/1.1\r\nHost: a\r\n\r\nGET /s2 HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")
		br := bufio.NewReader(c1)
		for range 3 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			out = append(out, resp.Header.Get("x"))
		}
		got, _ := exchange(t, fe, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 3*time.Second)
		out = append(out, got)
		c1.Close()
		// The first session's bytes come back once the proxy saw it
		// close: ask until the set succeeds, for a bounded time.
		for deadline := time.Now().Add(3 * time.Second); ; {
			got, _ = exchange(t, fe, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n", []string{"GET"}, 3*time.Second)
			if strings.Contains(got, "|gggg") || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return strings.Join(append(out, got), "\n")
	}

	for _, c := range []struct {
		name string
		cfg  string
		run  func(string) string
		want []string
	}{
		{"scopes", scopes, scopeRun, []string{"x: " + a20 + "||||||||\r\n", "x: ||0123456789||||||\r\n", "x: |||||||OPTIONS|\r\n"}},
		{"process", procs, procRun, []string{"|" + strings.Repeat("b", 100) + "|||", "x: ||||||pppppppppp\r\n", "x: ||||" + strings.Repeat("g", 20) + "||pppppppppp\r\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := freePort(t)
			startGohap(t, fmtCfg(c.cfg, fe), nil)
			got := c.run(fe)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("gohap: no %q in\n%s", w, got)
				}
			}
			ref := freePort(t)
			startHAProxy(t, fmtCfg(c.cfg, ref), ref)
			if want := c.run(ref); got != want {
				t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
			}
		})
	}
}
