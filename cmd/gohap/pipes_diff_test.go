package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var pipeInfoRe = regexp.MustCompile(`(?m)^(Maxpipes|PipesUsed|PipesFree): (\d+)$`)

// TestPipesInfoDifferential: "show info" gives HAProxy's Maxpipes, the
// splicing proxies' connections over four (compute_ideal_maxpipes),
// bounded by maxconn, or maxpipes when set (less the one being made);
// and, after spliced answers
// taken one at a time, each once the last one's pipe is back, that pipe
// kept free for the next.
func TestPipesInfoDifferential(t *testing.T) {
	ref := haproxyBin()
	if ref == "" {
		t.Skip("haproxy is not installed (set HAPROXY_BIN)")
	}
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The upstream answers every request with a 256 KiB body.
	body := strings.Repeat("x", 256<<10)
	up := serveEach(t, "127.0.0.1:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		for {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
	})
	cases := []struct{ name, global, proxies string }{
		{"none", "", "frontend fe\n bind %[1]s\n default_backend be\nbackend be\n server s %[2]s\n"},
		{"fe-be", " maxconn 1000\n", "frontend fe\n bind %[1]s\n maxconn 100\n option splice-response\n default_backend be\n" +
			"backend be\n fullconn 300\n option splice-request\n server s %[2]s\n"},
		{"listen", " maxconn 1000\n", "listen li\n bind %[1]s\n option splice-auto\n server s %[2]s\n" +
			"frontend fe\n bind %[3]s\n maxconn 100\n option splice-response\n default_backend be\nbackend be\n server s %[2]s\n"},
		{"maxpipes", " maxconn 1000\n maxpipes 7\n", "listen li\n bind %[1]s\n option splice-response\n server s %[2]s\n"},
		// A new pipe counts itself against the bound: none with 1.
		{"maxpipes-1", " maxpipes 1\n", "listen li\n bind %[1]s\n option splice-response\n server s %[2]s\n"},
	}
	run := func(t *testing.T, bin, global, proxies string) string {
		dir := t.TempDir()
		addr := freeAddr(t)
		// One thread: HAProxy's threads keep free pipes of their own.
		cfg := writeCfg(t, dir, "p.cfg", "global\n nbthread 1\n stats socket "+dir+"/s.sock level admin\n"+global+
			"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			fmt.Sprintf(proxies, addr, up, freeAddr(t)))
		p := startBin(t, bin, "-db", "-f", cfg)
		var got []string
		info := func() string {
			c := dialRetry(t, "unix", dir+"/s.sock", 5*time.Second)
			io.WriteString(c, "show info\n")
			c.SetDeadline(time.Now().Add(3 * time.Second))
			b, _ := io.ReadAll(c)
			c.Close()
			got = got[:0]
			for _, m := range pipeInfoRe.FindAllStringSubmatch(string(b), -1) {
				got = append(got, m[1]+"="+m[2])
			}
			return strings.Join(got, " ")
		}
		// The stream ends a moment after the client has it all.
		settled := func() string {
			for end := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if in := info(); strings.Contains(in, "PipesUsed=0") || time.Now().After(end) {
					return in
				}
			}
		}
		for i := 0; i < 3; i++ {
			settled()
			c := dialRetry(t, "tcp", addr, 5*time.Second)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			n := int64(0)
			if err == nil {
				n, _ = io.Copy(io.Discard, resp.Body)
			}
			c.Close()
			if n != int64(len(body)) {
				t.Fatalf("answer %d: %d bytes, %v\n%s", i, n, err, p.stderr)
			}
		}
		return settled()
	}
	agree := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := run(t, ref, c.global, c.proxies)
			got := run(t, gohap, c.global, c.proxies)
			if got != want {
				t.Errorf("haproxy: %s\ngohap:   %s", want, got)
				return
			}
			agree++
			t.Logf("%s", want)
		})
	}
	t.Logf("pipe counters identical to HAProxy: %d/%d", agree, len(cases))
}
