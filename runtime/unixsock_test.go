package runtime_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime"
)

// getOn sends one request on a connection made by dial and returns the
// status, the x-server header and the body.
func getOn(t testing.TB, network, addr, raw string) (int, string, string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("x-server"), string(b)
}

// unixUpstream serves HTTP on a unix socket, answering with its name
// in x-server.
func unixUpstream(t testing.TB, path, name string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-server", name)
		io.WriteString(w, "hello from "+name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

const unixDefaults = "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"

// A client over a unix bind is served; the socket file gets the bind's
// mode and owner, replaces a stale file at its path, leaves no temporary
// name behind and stays after the stop, as with HAProxy.
func TestUnixBindServes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fe.sock")
	// A stale file where the socket goes is replaced.
	if err := os.WriteFile(path, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	owner := ""
	root := os.Geteuid() == 0
	if root {
		owner = " uid 4321 gid 8765"
	}
	cfg := unixDefaults + "frontend fe\n bind " + path + " mode 640" + owner + "\n bind unix@" + path + "2\n http-request return status 200 content-type text/plain string ok\n"
	e := startGohap(t, cfg, nil)
	for _, p := range []string{path, path + "2"} {
		st, _, body := getOn(t, "unix", p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if st != 200 || body != "ok" {
			t.Fatalf("%s: %d %q", p, st, body)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want a socket with 0640", fi.Mode())
	}
	if root {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 || st.Gid != 8765 {
			t.Errorf("owner %d:%d, want 4321:8765", st.Uid, st.Gid)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, en := range ents {
			names = append(names, en.Name())
		}
		t.Errorf("files %v, want the two sockets only", names)
	}
	e.Stop()
	e.Wait()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("socket file gone after the stop: %v", err)
	}
}

// unix-bind's prefix and mode apply to the binds, and its prefix not to
// servers.
func TestUnixBindPrefix(t *testing.T) {
	dir := t.TempDir() + "/"
	up := filepath.Join(dir, "up.sock")
	unixUpstream(t, up, "up")
	cfg := "global\n unix-bind prefix " + dir + " mode 600\n" + unixDefaults + "frontend fe\n bind unix@fe.sock\n default_backend be\nbackend be\n server s1 " + up + "\n"
	startGohap(t, cfg, nil)
	st, srv, _ := getOn(t, "unix", dir+"fe.sock", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if st != 200 || srv != "up" {
		t.Fatalf("%d %q", st, srv)
	}
	if fi, err := os.Stat(dir + "fe.sock"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("prefixed socket: %v %v", fi, err)
	}
}

// Servers on unix sockets (a path, unix@) are reached, and their health
// checks pass; one whose socket is gone is marked down by its check.
func TestUnixServers(t *testing.T) {
	dir := t.TempDir()
	unixUpstream(t, filepath.Join(dir, "a.sock"), "a")
	unixUpstream(t, filepath.Join(dir, "b.sock"), "b")
	fe := freePort(t)
	cfg := unixDefaults + "frontend fe\n bind " + fe + "\n default_backend be\nbackend be\n option httpchk GET /\n" +
		" server a " + dir + "/a.sock check inter 50ms\n server b unix@" + dir + "/b.sock check inter 50ms\n" +
		" server c " + dir + "/none.sock check inter 50ms fall 1\n"
	e := startGohap(t, cfg, nil)
	seen := map[string]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		st, srv, _ := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if st == 200 {
			seen[srv] = true
		}
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("servers answering: %v", seen)
	}
	var states map[string]string
	for time.Now().Before(deadline) {
		states = map[string]string{}
		for _, s := range e.Snapshot()[0].Servers {
			states[s.Name] = s.State
		}
		if states["a"] == "UP" && states["b"] == "UP" && states["c"] == "DOWN" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("server states %v, want a and b UP, c DOWN", states)
}

// A frontend and a backend of one configuration talk over an abstract
// socket, as many reg-tests chain them; HAProxy reaches gohap's abns@
// listener too, the name padded as it pads it.
func TestABNSBetweenProxies(t *testing.T) {
	up := startEcho(t, "s1")
	name := fmt.Sprintf("gohap-test-%d", os.Getpid())
	fe := freePort(t)
	cfg := unixDefaults + "frontend fe\n bind " + fe + "\n default_backend chain\nbackend chain\n server l abns@" + name + "\n" +
		"frontend inner\n bind abns@" + name + "\n http-response set-header x-inner %[src]:%[src_port]:%[dst_port]\n default_backend be\nbackend be\n server s1 " + up.Addr() + "\n"
	startGohap(t, cfg, nil)
	c, err := net.DialTimeout("tcp", fe, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /size/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("x-server") != "s1" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	// A unix client has no address: src, src_port and dst_port fail.
	if got := resp.Header.Get("x-inner"); got != "::" {
		t.Errorf("x-inner %q, want the empty fetches \"::\"", got)
	}
	// The address is sun_path whole, NUL-padded, as HAProxy binds it.
	st, srv, _ := getOn(t, "unix", backend.AbstractName(name), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if st != 200 || srv != "s1" {
		t.Errorf("padded abstract name: %d %q", st, srv)
	}
	if _, err := net.DialTimeout("unix", "@"+name, time.Second); err == nil {
		t.Errorf("the unpadded name answers too")
	}
}

// The log of a request over unix sockets is HAProxy's: %ci and %fi are
// "unix", %cp and %fp the listener's id, %si and %bi "unix" and their
// ports 0 for a server on a unix socket; a connection error's line
// starts with "unix:" and the listener's id.
func TestUnixLogDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the log lines with")
	}
	up := startEcho(t, "s1")
	const format = `%ci:%cp %fi:%fp %si:%sp %bi:%bp %ft %b/%s %ST [%[src]] [%[src_port]] [%[dst]] %{+Q}r`
	run := func(start func(cfg, addr string), tag string) []string {
		sink := newLogSink(t)
		dir := t.TempDir()
		fe := filepath.Join(dir, "fe.sock")
		mid := fmt.Sprintf("gohap-log-%s-%d", tag, os.Getpid())
		probe := freePort(t)
		start(fmtCfg(`global
 log %s local0
`+unixDefaults+` log global
 option dontlognull
frontend probe
 bind %s
 http-request return status 200
frontend fe
 bind %s
 bind %s.2 id 7
 bind %s.pp accept-proxy
 log-format "%s"
 default_backend chain
backend chain
 server l abns@%s
frontend inner
 bind abns@%s
 log-format "%s"
 default_backend be
backend be
 server s1 %s
`, sink.addr(), probe, fe, fe, fe, format, mid, mid, format, up.Addr()), probe)
		// The TCP probe may answer before the unix sockets are bound; the
		// empty connections that wait for them are not logged.
		for _, p := range []string{fe, fe + ".2", fe + ".pp"} {
			deadline := time.Now().Add(5 * time.Second)
			for {
				c, err := net.DialTimeout("unix", p, time.Second)
				if err == nil {
					c.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatal(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		var out []string
		for _, p := range []string{fe, fe + ".2"} {
			if st, _, _ := getOn(t, "unix", p, "GET /size/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 {
				t.Fatalf("%s: status %d", p, st)
			}
			// The inner and outer streams end at about the same time.
			var pair []string
			for i := 0; i < 2; i++ {
				l, ok := sink.next(3 * time.Second)
				if !ok {
					t.Fatalf("no log line")
				}
				pair = append(pair, logPort.ReplaceAllString(maskLog(l), "127.0.0.1:PORT"))
			}
			sort.Strings(pair)
			out = append(out, pair...)
		}
		// A connection error names the client "unix" too.
		c, err := net.DialTimeout("unix", fe+".pp", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GARBAGE\r\n\r\n")
		defer c.Close()
		l, ok := sink.next(3 * time.Second)
		if !ok {
			t.Fatalf("no log line for the bad PROXY header")
		}
		return append(out, maskLog(l))
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) }, "ref")
	got := run(func(cfg, addr string) { startGohap(t, cfg, nil) }, "got")
	if sameLines(t, ref, got) != len(ref) {
		t.Errorf("log lines differ")
	}
	if !strings.Contains(strings.Join(got, "\n"), "unix:7 unix:7") {
		t.Errorf("no line for the bind with id 7: %q", got)
	}
}

// An in-process reload takes the unix listener over: the same socket,
// no new file, and the new configuration answers on it.
func TestUnixTakeOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fe.sock")
	cfg := func(answer string) string {
		return unixDefaults + "frontend fe\n bind " + path + "\n bind abns@gohap-takeover-" + fmt.Sprint(os.Getpid()) + "\n http-request return status 200 content-type text/plain string " + answer + "\n"
	}
	old := runtime.NewEngine(compileText(t, cfg("old")), nil)
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Stop(); old.Wait() })
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	next := runtime.NewEngine(compileText(t, cfg("new")), nil)
	next.TakeOver(old)
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.Stop(); next.Wait() })
	old.Retire()
	// A named socket reports its path, not the name it was bound on.
	for _, e := range []*runtime.Engine{old, next} {
		if a := e.Addrs("fe"); len(a) != 2 || a[0] != path {
			t.Errorf("addresses %q, want %s first", a, path)
		}
	}
	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("socket file replaced or gone: %v", err)
	}
	for _, a := range []string{path, backend.AbstractName(fmt.Sprintf("gohap-takeover-%d", os.Getpid()))} {
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, _, body := getOn(t, "unix", a, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
			if body == "new" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%q still answers %q", a, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// A sockpair@ bind serves the connections whose descriptors arrive over
// the pair; a sockpair@ server sends its connections over one.
func TestSockpair(t *testing.T) {
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(pair[1])
	fe := freePort(t)
	cfg := fmtCfg(unixDefaults+"frontend fe\n bind %s\n default_backend pair\nbackend pair\n server p sockpair@%d\n"+
		"frontend inner\n bind sockpair@%d\n http-request return status 200 content-type text/plain string via-pair\n", fe, pair[1], pair[0])
	startGohap(t, cfg, nil)
	for i := 0; i < 3; i++ {
		if st, _, body := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || body != "via-pair" {
			t.Fatalf("request %d: %d %q", i, st, body)
		}
	}
}

// TLS, HTTP/2 and PROXY headers over unix sockets, chained as the ssl
// reg-tests chain them: a TCP frontend's backend reaches "ssl" servers
// on a path and an abstract socket whose binds terminate TLS, then one
// with send-proxy-v2 to an accept-proxy bind, and an HTTP/2 client
// of a "proto h2" bind.
func TestUnixTLSAndHTTP2(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "site.pem", "site.test")
	fe := freePort(t)
	abns := fmt.Sprintf("gohap-tls-%d", os.Getpid())
	startGohap(t, fmtCfg(`global
 crt-base %s
`+unixDefaults+`frontend fe
 bind %s
 use_backend pp if { path /pp }
 default_backend tls
backend tls
 balance roundrobin
 server a %s/ssl.sock ssl verify none sni str(site.test)
 server b abns@%s ssl verify none sni str(site.test)
backend pp
 server p unix@%s/pp.sock send-proxy-v2
frontend tlsfe
 bind %s/ssl.sock ssl crt site.pem
 bind abns@%s ssl crt site.pem
 http-request return status 200 hdr x-tls "%%[ssl_fc] %%[ssl_fc_sni] %%[ssl_fc_protocol]" hdr x-fp "%%[fc_dst_port]"
frontend ppfe
 bind %s/pp.sock accept-proxy
 http-request return status 200 hdr x-src "%%[src]" hdr x-h2 "%%[req.ver]"
frontend h2fe
 bind %s/h2.sock proto h2
 http-request return status 200 hdr x-h2 "%%[req.ver]"
`, dir, fe, dir, abns, dir, dir, abns, dir, dir), nil)
	hdr := func(path, name string) string {
		t.Helper()
		c, err := net.DialTimeout("tcp", fe, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		return resp.Header.Get(name)
	}
	for i := 0; i < 2; i++ {
		if got := hdr("/", "x-tls"); !strings.HasPrefix(got, "1 site.test TLSv1.") {
			t.Errorf("TLS over unix: x-tls %q", got)
		}
	}
	if got := hdr("/pp", "x-src"); got != "127.0.0.1" {
		t.Errorf("accept-proxy over unix: src %q, want the PROXY header's", got)
	}
	// An HTTP/2 client on the "proto h2" unix bind.
	h2c := &http.Client{Timeout: 5 * time.Second, Transport: &http2.Transport{AllowHTTP: true,
		DialTLS: func(string, string, *tls.Config) (net.Conn, error) { return net.Dial("unix", dir+"/h2.sock") }}}
	for i := 0; i < 2; i++ {
		resp, err := h2c.Get("http://h2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || resp.Header.Get("x-h2") == "" {
			t.Errorf("proto h2 over unix: %s %s", resp.Proto, resp.Status)
		}
	}
}

// Stats sockets bind as the frontends' unix binds do: on an abstract
// name, and on a path with the line's mode and owner.
func TestUnixStatsSockets(t *testing.T) {
	dir := t.TempDir()
	name := fmt.Sprintf("gohap-stats-%d", os.Getpid())
	owner := ""
	if os.Geteuid() == 0 {
		owner = " uid 4321 gid 8765"
	}
	startGohap(t, "global\n stats socket abns@"+name+" level admin\n stats socket "+dir+"/st.sock mode 604"+owner+" level admin\n"+
		unixDefaults+"frontend fe\n bind "+freePort(t)+"\n http-request return status 200\n", nil)
	for _, a := range []string{backend.AbstractName(name), dir + "/st.sock"} {
		c, err := net.DialTimeout("unix", a, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, "show info\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if !strings.Contains(string(b), "Pid: ") {
			t.Errorf("%q: %q", a, b)
		}
	}
	fi, err := os.Stat(dir + "/st.sock")
	if err != nil || fi.Mode().Perm() != 0o604 {
		t.Fatalf("stats socket file: %v %v", fi, err)
	}
	if owner != "" {
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 || st.Gid != 8765 {
			t.Errorf("owner %d:%d, want 4321:8765", st.Uid, st.Gid)
		}
	}
}

// ipv4@ and ipv6@ binds listen on their family only: "ipv4@:PORT" is
// 0.0.0.0, which an IPv6 client does not reach.
func TestFamilyPrefixedBinds(t *testing.T) {
	fe := freePort(t)
	_, port, _ := net.SplitHostPort(fe)
	startGohap(t, unixDefaults+"frontend fe\n bind ipv4@:"+port+"\n http-request return status 200\n", nil)
	if st, _, _ := get(t, "127.0.0.1:"+port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 {
		t.Fatalf("IPv4 client: %d", st)
	}
	if c, err := net.DialTimeout("tcp6", "[::1]:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("an IPv6 client reached an ipv4@ bind")
	}
}

// In mode tcp, a unix bind's client is relayed to a unix server.
func TestUnixTCPMode(t *testing.T) {
	dir := t.TempDir()
	unixUpstream(t, dir+"/up.sock", "up")
	startGohap(t, "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
		"listen li\n bind "+dir+"/fe.sock\n server s1 unix@"+dir+"/up.sock\n", nil)
	for i := 0; i < 2; i++ {
		if st, srv, _ := getOn(t, "unix", dir+"/fe.sock", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || srv != "up" {
			t.Fatalf("%d %q", st, srv)
		}
	}
}

// The stats socket shows servers on unix sockets as HAProxy does: no
// address, port or FQDN in "show servers state", "unix" as the address
// in "show stat".
func TestUnixServersShownAsHAProxy(t *testing.T) {
	dir := t.TempDir()
	cfg := func(sock, fe string) string {
		return "global\n stats socket " + sock + " level admin\n" + unixDefaults + "frontend fe\n bind " + fe + "\n default_backend be\n" +
			"backend be\n server s1 " + dir + "/none.sock\n server s2 abns@gohap-none\n server s3 unix@" + dir + "/none2.sock\n"
	}
	show := func(sock string) []string {
		var out []string
		for _, l := range strings.Split(cliSend(t, "unix", sock, "show servers state be\n"), "\n") {
			if f := strings.Fields(l); len(f) > 17 && f[0] != "#" {
				// srv_addr, srv_port, srv_fqdn.
				out = append(out, f[3]+" "+f[4]+" "+f[17]+" "+f[18])
			}
		}
		for _, l := range strings.Split(cliSend(t, "unix", sock, "show stat\n"), "\n") {
			if f := strings.Split(l, ","); len(f) > 73 && f[0] == "be" && strings.HasPrefix(f[1], "s") {
				out = append(out, f[1]+" "+f[73])
			}
		}
		return out
	}
	hsock, gsock := dir+"/h.sock", dir+"/g.sock"
	hfe := freePort(t)
	startHAProxy(t, cfg(hsock, hfe), hfe)
	startGohap(t, cfg(gsock, freePort(t)), nil)
	want, got := show(hsock), show(gsock)
	if len(want) != 6 || strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Pause lets go of an abstract name, which another socket can then
// bind, and Resume binds it again and serves on it.
func TestPauseReleasesAbstractSocket(t *testing.T) {
	name := fmt.Sprintf("gohap-pause-%d", os.Getpid())
	padded := backend.AbstractName(name)
	dir := t.TempDir()
	e := startGohap(t, unixDefaults+"frontend fe\n bind abns@"+name+"\n bind "+dir+"/fe.sock\n http-request return status 200 content-type text/plain string ok\n", nil)
	e.Pause()
	other, err := net.Listen("unix", padded)
	if err != nil {
		t.Fatalf("the paused name is still held: %v", err)
	}
	// A named socket stays served while paused.
	if st, _, body := getOn(t, "unix", dir+"/fe.sock", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || body != "ok" {
		t.Errorf("named socket while paused: %d %q", st, body)
	}
	other.Close()
	e.Resume()
	if st, _, body := getOn(t, "unix", padded, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || body != "ok" {
		t.Errorf("after Resume: %d %q", st, body)
	}
}

// A server connection over a unix socket is closed once the exchange is
// over, as a TCP one is: the server sees its end.
func TestUnixServerConnectionClosed(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", dir+"/up.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan error, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(c)
				if _, err := http.ReadRequest(r); err != nil {
					closed <- err
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				// The proxy's close, not a timeout, ends the wait.
				_, err := r.ReadByte()
				closed <- err
			}()
		}
	}()
	fe := freePort(t)
	startGohap(t, unixDefaults+"frontend fe\n bind "+fe+"\n default_backend be\nbackend be\n option http-server-close\n server s1 "+dir+"/up.sock\n", nil)
	if st, _, body := get(t, fe, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); st != 200 || body != "ok" {
		t.Fatalf("%d %q", st, body)
	}
	select {
	case err := <-closed:
		if err != io.EOF {
			t.Errorf("server connection ended with %v, want its close", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("the server connection stays open")
	}
}
