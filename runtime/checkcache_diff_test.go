package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestCheckCacheDifferential: option checkcache blocks a cacheable
// response that sets a cookie (HAProxy's page for its status, PH in the
// log, an alert to the backend's log), and cookie nocache marks a
// cacheable response that gets the inserted cookie private. Side by side
// with HAProxy: what the client reads of two requests on one
// connection, and the log lines.
func TestCheckCacheDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	exp := "Expires: Thu, 01 Dec 2039 16:00:00 GMT\r\n"
	rsps := []struct{ name, method, rsp string }{
		{"no-freshness", "GET", "200 OK\r\nSet-Cookie: a=b\r\n"},
		{"expires", "GET", "200 OK\r\nSet-Cookie: a=b\r\n" + exp},
		{"206", "GET", "206 Partial\r\nSet-Cookie: a=b\r\n" + exp},
		{"private", "GET", "200 OK\r\nSet-Cookie: a=b\r\nCache-Control: private, max-age=5\r\n"},
		{"no-cache-set-cookie", "GET", "200 OK\r\nSet-Cookie: a=b\r\nCache-Control: no-cache=\"set-cookie\", max-age=5\r\n"},
		{"public-500", "GET", "500 Oops\r\nSet-Cookie: a=b\r\nCache-Control: public, max-age=5\r\n"},
		{"pragma", "GET", "200 OK\r\nSet-Cookie: a=b\r\nPragma: no-cache\r\n" + exp},
		{"etag-no-cookie", "GET", "200 OK\r\nETag: \"x\"\r\n"},
		{"post", "POST", "200 OK\r\nSet-Cookie: a=b\r\n" + exp},
		{"404-validator", "GET", "404 NF\r\nSet-Cookie2: a=b\r\nLast-Modified: Tue, 01 Dec 2020 16:00:00 GMT\r\n"},
	}
	cfgs := map[string]string{
		"checkcache": "option checkcache\n    server s1 %s",
		"nocache":    "cookie SRV insert nocache\n    server s1 %s cookie c1",
		"both":       "option checkcache\n    cookie SRV insert nocache\n    server s1 %s cookie c1",
	}
	for cname, cfg := range cfgs {
		for _, r := range rsps {
			cfg, r := cfg, r
			t.Run(cname+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				sideBySide(t, func(start func(cfg, fe string)) string { return checkCacheRun(t, cfg, r.method, r.rsp, start) })
			})
		}
	}
}

var ccMask = regexp.MustCompile(`\[\d+/\w+/\d+:[\d:.]+\] |127\.0\.0\.1:\d+ | \d+/\d+/\d+/-?\d+/\d+ `)

func checkCacheRun(t *testing.T, servers, method, rsp string, start func(cfg, fe string)) string {
	up := serveRequests(t, func(c net.Conn, _ *http.Request) {
		io.WriteString(c, "HTTP/1.1 "+rsp+"Content-Length: 2\r\n\r\nok")
	})
	logs := newLogSink(t)
	addr := freePort(t)
	start(fmt.Sprintf(`%s    log %s local0
    option httplog
    option dontlognull
frontend f
    bind %s
    default_backend b
backend b
    `+servers+`
`, diffDefaults, logs.addr(), addr, up), addr)
	c := dialRaw(t, addr)
	body := ""
	if method == "POST" {
		body = "Content-Length: 0\r\n"
	}
	one := method + " / HTTP/1.1\r\nHost: a\r\n" + body + "\r\n"
	io.WriteString(c, one)
	br := bufio.NewReader(c)
	var got []string
	for i := 0; i < 2; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			got = append(got, "closed")
			break
		}
		b, _ := io.ReadAll(resp.Body)
		var hs []string
		for k, v := range resp.Header {
			hs = append(hs, k+"="+strings.Join(v, ";"))
		}
		sort.Strings(hs)
		got = append(got, fmt.Sprintf("%d %d %s", resp.StatusCode, len(b), strings.Join(hs, ",")))
		if i == 0 {
			io.WriteString(c, one)
		}
	}
	// Each request ends with its access log line, after any alert it
	// caused: two access lines mean every line is in.
	var lines []string
	for access := 0; access < 2; {
		l, ok := logs.next(3 * time.Second)
		if !ok {
			lines = append(lines, "no more log")
			break
		}
		if strings.Contains(l, ` "GET /`) || strings.Contains(l, ` "POST /`) {
			access++
		}
		if i := strings.Index(l, ">"); i >= 0 {
			if j := strings.Index(l, "]: "); j >= 0 {
				l = l[:i+1] + l[j+3:]
			}
		}
		lines = append(lines, ccMask.ReplaceAllString(strings.TrimSpace(l), ""))
	}
	return strings.Join(got, " | ") + " || " + strings.Join(lines, " / ")
}
