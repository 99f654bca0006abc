package runtime_test

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ticketsFE starts the configurations of the tests below.
const ticketsFE = `defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
`

// ticketKeysSetup skips without HAProxy, else writes a certificate and
// two key files, of 4 keys of 48 bytes and of 3 of 80, into a new dir.
func ticketKeysSetup(t *testing.T) (dir, k1, k2 string) {
	t.Helper()
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference")
	}
	dir = t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	k1, k2 = filepath.Join(dir, "k1"), filepath.Join(dir, "k2")
	writeTicketKeys(t, k1, 4, 48)
	writeTicketKeys(t, k2, 3, 80)
	return dir, k1, k2
}

// writeTicketKeys writes n random base64 ticket keys of size bytes.
func writeTicketKeys(t *testing.T, path string, n, size int) {
	t.Helper()
	var b strings.Builder
	for range n {
		k := make([]byte, size)
		rand.Read(k)
		b.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Binds given the same tls-ticket-keys file resume each other's TLS
// sessions, binds given another file or none do not: the outcomes of
// HAProxy and gohap agree for TLS 1.2 and TLS 1.3 clients.
func TestTLSTicketKeysDifferential(t *testing.T) {
	dir, k1, k2 := ticketKeysSetup(t)
	// A file rotated twice by appending a key: 3, 4 and 5 lines of one
	// sequence. The penultimate key encrypts, the last three decrypt.
	seq := filepath.Join(dir, "seq")
	writeTicketKeys(t, seq, 5, 48)
	lines, _ := os.ReadFile(seq)
	rot := strings.SplitAfter(string(lines), "\n")
	r3, r4, r5 := filepath.Join(dir, "r3"), filepath.Join(dir, "r4"), filepath.Join(dir, "r5")
	for i, f := range []string{r3, r4, r5} {
		os.WriteFile(f, []byte(strings.Join(rot[:3+i], "")), 0o600)
	}
	type hop struct{ from, to string }
	hops := []hop{{"a", "a"}, {"a", "b"}, {"b", "a"}, {"a", "c"}, {"c", "c"}, {"d", "a"}, {"a", "d"},
		{"e", "f"}, {"f", "e"}, {"e", "g"}, {"g", "e"}, {"f", "g"}, {"g", "f"}}
	run := func(start func(cfg, first string)) []string {
		a, b, c, d := freePort(t), freePort(t), freePort(t), freePort(t)
		e, f, g := freePort(t), freePort(t), freePort(t)
		addr := map[string]string{"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}
		start(fmt.Sprintf(ticketsFE+` bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 http-request return status 200 hdr x-resumed %%[ssl_fc_is_resumed]
`, a, dir, k1, b, dir, k1, c, dir, k2, d, dir, e, dir, r3, f, dir, r4, g, dir, r5), a)
		var out []string
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			for _, h := range hops {
				cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", MaxVersion: v,
					ClientSessionCache: tls.NewLRUClientSessionCache(4)}
				first := tlsGet(t, addr[h.from], cfg)
				second := tlsGet(t, addr[h.to], cfg)
				out = append(out, fmt.Sprintf("TLS %x %s->%s: %s / %s", v, h.from, h.to, first, second))
			}
		}
		return out
	}
	ref := run(func(cfg, first string) { startHAProxy(t, cfg, first) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if strings.Join(got, "\n") != strings.Join(ref, "\n") {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", strings.Join(ref, "\n"), strings.Join(got, "\n"))
	}
	t.Logf("resumption outcomes (agree):\n%s", strings.Join(got, "\n"))
	// The shared file must have made a difference.
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "a->b: resumed=false(0) / resumed=true(1)") || !strings.Contains(all, "e->g: resumed=false(0) / resumed=false(0)") {
		t.Errorf("no resumption across binds sharing a keys file:\n%s", strings.Join(got, "\n"))
	}
}

// tlsGet makes one request over a new TLS connection and tells whether the
// client resumed and what the proxy saw.
func tlsGet(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	d := &net.Dialer{Timeout: 2 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n")
	b, _ := io.ReadAll(c)
	seen := "?"
	if i := strings.Index(strings.ToLower(string(b)), "x-resumed: "); i >= 0 {
		seen = string(b[i+11 : i+12])
	}
	return fmt.Sprintf("resumed=%v(%s)", c.ConnectionState().DidResume, seen)
}

// "show tls-keys" and "set ssl tls-key" answer as HAProxy's, and a key
// set over the CLI takes effect: a session ticket made before survives
// one rotation and not two, on both proxies.
func TestTLSKeysCLIDifferential(t *testing.T) {
	dir, k1, k2 := ticketKeysSetup(t)
	key48 := base64.StdEncoding.EncodeToString(make([]byte, 48))
	key48b := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 48)))
	key80 := base64.StdEncoding.EncodeToString(make([]byte, 80))
	sides := startCLISides(t, func(s *cliMapsSide) string {
		return fmt.Sprintf("global\n stats socket %s level admin\n"+ticketsFE+` bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 bind %s ssl crt %s/site.pem tls-ticket-keys %s
 http-request return status 200 hdr x-resumed %%[ssl_fc_is_resumed]
`, s.sock, s.fe, dir, k1, freePort(t), dir, k2, freePort(t), dir, k1)
	})
	steps := []string{
		"show tls-keys", "show tls-keys *", "show tls-keys #0", "show tls-keys #1", "show tls-keys " + k1,
		"show tls-keys #2", "show tls-keys #x", "show tls-keys nope",
		"set ssl tls-key", "set ssl tls-key #1", "set ssl tls-key #9 " + key48, "set ssl tls-key #1 !!!",
		"set ssl tls-key #1 " + key80, "set ssl tls-key #0 " + key48,
		"ticket", "set ssl tls-key " + k1 + " " + key48, "resume", "show tls-keys #1",
		"set ssl tls-key #1 " + key48b, "resume", "show tls-keys *",
	}
	var outs [2][]string
	for i, s := range sides {
		var cache tls.ClientSessionCache
		for _, step := range steps {
			var out string
			switch step {
			case "ticket":
				cache = tls.NewLRUClientSessionCache(4)
				out = tlsGet(t, s.fe, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", ClientSessionCache: cache})
			case "resume":
				// A connection that fails to resume stores a new ticket:
				// each attempt uses a copy of the first one.
				out = tlsGet(t, s.fe, &tls.Config{InsecureSkipVerify: true, ServerName: "site.test", ClientSessionCache: &onceCache{ClientSessionCache: cache}})
			default:
				out = s.send(t, step+"\n")
			}
			outs[i] = append(outs[i], step+" -> "+out)
		}
	}
	ref, got := strings.Join(outs[0], "\n"), strings.Join(outs[1], "\n")
	if ref != got {
		t.Errorf("haproxy:\n%s\ngohap:\n%s", ref, got)
	}
	t.Logf("CLI steps (agree):\n%s", got)
	if !strings.Contains(got, "resume -> resumed=true(1)") || !strings.Contains(got, "resume -> resumed=false(0)") {
		t.Errorf("the rotations did not show:\n%s", got)
	}
}

// onceCache hands out the session it was made with and keeps nothing.
type onceCache struct{ tls.ClientSessionCache }

func (onceCache) Put(string, *tls.ClientSessionState) {}
