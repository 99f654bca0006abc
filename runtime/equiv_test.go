package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
)

// Behaviour equivalence of migration: gohap runs a legacy 1.x
// configuration with its 1.x meaning, HAProxy 2.6 runs what `gohap
// migrate` made of it, and both must answer the same requests with the
// same bytes, the echo upstream showing the headers it received.

var legacyConfigs = []struct {
	name string
	cfg  string // %[1]s the frontend address, %[2]s the upstream
	reqs []diffCase
}{
	{"header-filters", `
defaults
    mode http
    clitimeout 5s
    srvtimeout 5s
    contimeout 1s
frontend fe %[1]s
    reqadd X-Proto:\ http
    reqidel ^X-Debug:.*
    reqirep ^Host:\ www.example.com Host:\ example.com
    rspadd X-Frame-Options:\ DENY
    rspidel ^Server:.*
    default_backend be
backend be
    reqdel ^X-Internal:.*
    reqadd X-Backend:\ be
    rsprep ^Location:\ http://(.*) Location:\ https://\1
    server s1 %[2]s
`, []diffCase{
		{"plain", 0, req("GET / HTTP/1.1", "Host: www.example.com", "X-Debug: 1", "X-Internal: secret", "Accept: */*"), []string{"GET"}},
		{"other-host", 0, req("GET /a?b=c HTTP/1.1", "Host: other.example.com", "x-debug: yes"), []string{"GET"}},
		{"keep-alive", 0, req("GET /1 HTTP/1.1", "Host: a") + req("GET /2 HTTP/1.1", "Host: www.example.com"), []string{"GET", "GET"}},
		{"location-rewrite", 0, req("GET /redirect HTTP/1.1", "Host: a"), []string{"GET"}},
	}},
	{"url-rewrite-and-block", `
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 1s
frontend fe
    bind %[1]s
    acl bad_agent hdr_sub(user-agent) -i evilbot
    block if bad_agent
    reqrep ^([^\ :]*)\ /old/(.*) \1\ /new/\2
    reqdeny ^X-Forbidden:.*
    default_backend be
backend be
    server s1 %[2]s
`, []diffCase{
		{"rewritten-path", 0, req("GET /old/page?x=1 HTTP/1.1", "Host: a"), []string{"GET"}},
		{"untouched-path", 0, req("GET /keep/page HTTP/1.1", "Host: a"), []string{"GET"}},
		{"blocked-agent", 0, req("GET / HTTP/1.1", "Host: a", "User-Agent: EvilBot/1.0"), []string{"GET"}},
		{"denied-header", 0, req("GET / HTTP/1.1", "Host: a", "X-Forbidden: yes"), []string{"GET"}},
		{"after-deny", 0, req("GET /old/x HTTP/1.1", "Host: a") + req("GET / HTTP/1.1", "Host: a"), []string{"GET", "GET"}},
	}},
	{"setbe-and-tarpit", `
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 1s
    timeout tarpit 200ms
frontend fe
    bind %[1]s
    reqisetbe ^Host:\ api\. api
    reqitarpit ^X-Scan:.*
    default_backend be
backend api
    reqadd X-Backend:\ api
    server s1 %[2]s
backend be
    reqadd X-Backend:\ be
    server s1 %[2]s
`, []diffCase{
		{"setbe", 0, req("GET / HTTP/1.1", "Host: api.example.com"), []string{"GET"}},
		{"default", 0, req("GET / HTTP/1.1", "Host: www.example.com"), []string{"GET"}},
		{"tarpit", 0, req("GET / HTTP/1.1", "Host: www.example.com", "X-Scan: 1"), []string{"GET"}},
	}},
	{"listen-with-redispatch", `
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 1s
listen app %[1]s
    redispatch
    option forwardfor
    reqadd X-Listen:\ yes
    rspdel ^Content-Type:.*
    server s1 %[2]s
`, []diffCase{
		{"listen", 0, req("GET / HTTP/1.1", "Host: a"), []string{"GET"}},
		{"listen-post", 0, "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", []string{"POST"}},
	}},
}

func TestMigrationEquivalence(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases, agree := 0, 0
	for _, lc := range legacyConfigs {
		t.Run(lc.name, func(t *testing.T) {
			upGh, upHa := startEcho(t, "s1"), startEcho(t, "s1")
			feGh, feHa := freePort(t), freePort(t)
			legacy := fmtCfg(lc.cfg, feGh, upGh.Addr())
			startGohap(t, legacy, nil)
			migrated, _ := parser.Migrate(parser.Input{Name: "legacy.cfg", Data: []byte(fmtCfg(lc.cfg, feHa, upHa.Addr()))}, parser.MigrateOptions{})
			if strings.Contains(string(migrated), "manual action needed") {
				t.Fatalf("migration needs manual action:\n%s", migrated)
			}
			startHAProxy(t, string(migrated), feHa)
			for _, c := range lc.reqs {
				cases++
				want, wc := exchange(t, feHa, c.raw, c.methods, 3*time.Second)
				got, gc := exchange(t, feGh, c.raw, c.methods, 3*time.Second)
				if want != got || wc != gc {
					t.Errorf("%s: haproxy on the migrated config and gohap on the legacy one differ\nhaproxy (closed=%v): %q\ngohap   (closed=%v): %q", c.name, wc, want, gc, got)
					continue
				}
				if c.name == "location-rewrite" && !strings.Contains(got, "location: https://example.com/target\r\n") {
					t.Errorf("rsprep did not rewrite the Location header: %q", got)
				}
				agree++
			}
		})
	}
	t.Logf("migration equivalence: %d/%d exchanges identical", agree, cases)
}
