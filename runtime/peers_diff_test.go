package runtime_test

import (
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peersCfg is a node of a two-node peers section ("h" is HAProxy, "g"
// gohap) sharing tables of each key type, one of them declared in the
// peers section.
const peersCfg = `global
    localpeer %s
    stats socket ipv4@%s level admin
peers p
    peer h %s
    peer g %s
    table tn type integer size 100 expire 20s store gpt0,http_req_rate(10s)
backend ti
    stick-table type ip size 100 expire 30s peers p store server_id,gpt0,gpc0,conn_cnt,conn_cur,http_req_cnt,bytes_in_cnt
backend ts
    stick-table type string len 16 size 100 expire 40s peers p store gpc0,gpc0_rate(5s),http_err_cnt,bytes_out_cnt
backend t6
    stick-table type ipv6 size 100 peers p store gpc1,sess_cnt
`

var peersEntryID = regexp.MustCompile(`^0x[0-9a-f]+: `)
var peersExp = regexp.MustCompile(` exp=(\d+)`)
var peersUse = regexp.MustCompile(`use=\d+`)

// peersEntry returns the "show table" line of key without its address,
// and its exp, or ok false.
func peersEntry(t *testing.T, cli, table, key string) (line string, exp int, ok bool) {
	t.Helper()
	out := cliSend(t, "tcp", cli, "show table "+table+"\n")
	for _, l := range strings.Split(out, "\n") {
		l = peersEntryID.ReplaceAllString(l, "")
		if !strings.HasPrefix(l, "key="+key+" ") {
			continue
		}
		m := peersExp.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		exp, _ = strconv.Atoi(m[1])
		return peersExp.ReplaceAllString(l, ""), exp, true
	}
	return "", 0, false
}

// peersWait waits until the entry of key on cli has want (its line
// without address and exp), and returns its exp.
func peersWait(t *testing.T, cli, table, key, want string) int {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		line, exp, ok := peersEntry(t, cli, table, key)
		if ok && line == want {
			return exp
		}
		last = line
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("table %s on %s: key %s is %q, want %q", table, cli, key, last, want)
	return 0
}

func TestPeersWithHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	hPeer, gPeer, hCLI, gCLI := freePort(t), freePort(t), freePort(t), freePort(t)
	startHAProxyOut(t, fmtCfg(peersCfg, "h", hCLI, hPeer, gPeer), hCLI)
	gcfg := fmtCfg(peersCfg, "g", gCLI, hPeer, gPeer)
	startGohap(t, gcfg, nil)

	set := func(cli, cmd string) {
		t.Helper()
		if out := cliSend(t, "tcp", cli, cmd+"\n"); strings.TrimSpace(out) != "" {
			t.Fatalf("%s: %q", cmd, out)
		}
	}
	// HAProxy to gohap, then gohap to HAProxy, for each table: the
	// receiving node shows the same data, and an expiry that starts
	// from the receipt (plain updates carry none).
	steps := []struct {
		from, to, table, key, cmd string
		expire                    int
	}{
		{hCLI, gCLI, "ti", "10.0.0.1", "data.server_id 3 data.gpt0 11 data.gpc0 5 data.conn_cnt 7 data.conn_cur 2 data.http_req_cnt 8 data.bytes_in_cnt 123456789012", 30000},
		{gCLI, hCLI, "ti", "10.0.0.2", "data.server_id -4 data.gpt0 12 data.gpc0 6 data.conn_cnt 300 data.conn_cur 3 data.http_req_cnt 9 data.bytes_in_cnt 5000000000", 30000},
		{hCLI, gCLI, "ts", "alpha", "data.gpc0 1 data.gpc0_rate 4 data.http_err_cnt 2 data.bytes_out_cnt 77", 40000},
		{gCLI, hCLI, "ts", "a-rather-long-key-cut", "data.gpc0 2 data.gpc0_rate 9 data.http_err_cnt 3 data.bytes_out_cnt 78", 40000},
		{hCLI, gCLI, "p/tn", "42", "data.gpt0 5 data.http_req_rate 6", 20000},
		{gCLI, hCLI, "p/tn", "4294967295", "data.gpt0 7 data.http_req_rate 250", 20000},
		{hCLI, gCLI, "t6", "2001:db8::1", "data.gpc1 3 data.sess_cnt 4", 0},
		{gCLI, hCLI, "t6", "::ffff:10.1.2.3", "data.gpc1 5 data.sess_cnt 6", 0},
	}
	for _, s := range steps {
		set(s.from, "set table "+s.table+" key "+s.key+" "+s.cmd)
		key := s.key
		if s.table == "ts" && len(key) > 16 {
			key = key[:16]
		}
		want, _, ok := peersEntry(t, s.from, s.table, key)
		if !ok {
			t.Fatalf("%s: key %s not set on %s", s.table, key, s.from)
		}
		// conn_cur is local to each node: the receiver keeps its own.
		want = regexp.MustCompile(`conn_cur=\d+`).ReplaceAllString(want, "conn_cur=0")
		// A sender's "use" counts its own transient holders (a peer
		// push in flight); the receiver's entry is idle.
		want = peersUse.ReplaceAllString(want, "use=0")
		exp := peersWait(t, s.to, s.table, key, want)
		// HAProxy's CLI may read a date a tick older than the one its
		// peers applet stamped the entry with: a few ms over is fine.
		if s.expire == 0 && exp != 0 || s.expire != 0 && (exp > s.expire+10 || exp < s.expire-5000) {
			t.Errorf("%s %s on %s: exp=%d, want about %d", s.table, key, s.to, exp, s.expire)
		}
	}
	// Updates of an existing entry go both ways too.
	set(gCLI, "set table ti key 10.0.0.1 data.gpc0 50")
	want, _, _ := peersEntry(t, gCLI, "ti", "10.0.0.1")
	// HAProxy keeps the conn_cur it was given itself.
	peersWait(t, hCLI, "ti", "10.0.0.1", regexp.MustCompile(`conn_cur=\d+`).ReplaceAllString(want, "conn_cur=2"))
}

// startHAProxyCmd runs HAProxy until the returned stop is called.
func startHAProxyCmd(t *testing.T, text, addr string) (stop func()) {
	t.Helper()
	cmd := exec.Command(haproxyBin(), "-db", "-f", writeCfg(t, text))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy did not start: %s", out.String())
	return nil
}

// A node that restarts learns the whole table back from the other (a
// resync) with the expiry dates the other had: gohap from HAProxy, then
// HAProxy from gohap. A node that first connects is only pushed the
// entries as updates, with fresh dates, as between two HAProxy nodes.
func TestPeersResyncWithHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	hPeer, gPeer, hCLI, gCLI := freePort(t), freePort(t), freePort(t), freePort(t)
	hcfg, gcfg := fmtCfg(peersCfg, "h", hCLI, hPeer, gPeer), fmtCfg(peersCfg, "g", gCLI, hPeer, gPeer)
	stopH := startHAProxyCmd(t, hcfg, hCLI)
	cliSend(t, "tcp", hCLI, "set table ti key 10.9.0.1 data.gpc0 4 data.server_id 2\n")
	time.Sleep(1500 * time.Millisecond)
	eng := startGohap(t, gcfg, nil)
	cliSend(t, "tcp", gCLI, "set table ti key 10.9.0.2 data.gpc0 5 data.server_id 3\n")
	// The first push carries a fresh date, or HAProxy's own when gohap's
	// resync request reached it first (a slow start); both within the
	// table's expire.
	fresh := func(exp int) bool { return exp > 26000 && exp <= 30000 }
	for _, k := range []string{"10.9.0.1", "10.9.0.2"} {
		// gohap's own entry reaches HAProxy first, sooner or later.
		want, _, ok := peersEntry(t, hCLI, "ti", k)
		for deadline := time.Now().Add(8 * time.Second); !ok && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
			want, _, ok = peersEntry(t, hCLI, "ti", k)
		}
		if exp := peersWait(t, gCLI, "ti", k, want); !fresh(exp) {
			t.Errorf("first push of %s: exp=%d, want a date within the expire", k, exp)
		}
	}
	// Once the peers acked each other's entries, age them and restart
	// gohap: it asks HAProxy for everything.
	time.Sleep(2500 * time.Millisecond)
	eng.Stop()
	eng.Wait()
	startGohap(t, gcfg, nil)
	for _, k := range []string{"10.9.0.1", "10.9.0.2"} {
		want, hexp, _ := peersEntry(t, hCLI, "ti", k)
		exp := peersWait(t, gCLI, "ti", k, want)
		if exp > hexp+200 || exp < hexp-3000 {
			t.Errorf("resync of %s to gohap: exp=%d, HAProxy has %d", k, exp, hexp)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	stopH()
	startHAProxyCmd(t, hcfg, hCLI)
	for _, k := range []string{"10.9.0.1", "10.9.0.2"} {
		want, gexp, _ := peersEntry(t, gCLI, "ti", k)
		exp := peersWait(t, hCLI, "ti", k, want)
		if exp > gexp+200 || exp < gexp-3000 || exp > 29000 {
			t.Errorf("resync of %s to HAProxy: exp=%d, gohap has %d", k, exp, gexp)
		}
	}
}

// The peers sessions between gohap and HAProxy run over TLS when the
// section's bind and servers say "ssl", as in reg-tests/peers/tls_*.
func TestPeersTLSWithHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	pem := writeCert(t, t.TempDir(), "peer.pem", "peer.test")
	hPeer, gPeer, hCLI, gCLI := freePort(t), freePort(t), freePort(t), freePort(t)
	cfg := func(local, cli string) string {
		return fmtCfg(`global
    localpeer %s
    stats socket ipv4@%s level admin
peers p
    default-server ssl crt %s verify none
    bind %s ssl crt %s
    server %s
    server %s %s
    table t type string len 16 size 10 expire 30s store gpc0,server_id
`, local, cli, pem, map[string]string{"h": hPeer, "g": gPeer}[local], pem, local,
			map[string]string{"h": "g", "g": "h"}[local], map[string]string{"h": gPeer, "g": hPeer}[local])
	}
	startHAProxyOut(t, cfg("h", hCLI), hCLI)
	startGohap(t, cfg("g", gCLI), nil)
	cliSend(t, "tcp", hCLI, "set table p/t key from-h data.gpc0 3 data.server_id 1\n")
	cliSend(t, "tcp", gCLI, "set table p/t key from-g data.gpc0 4 data.server_id 2\n")
	peersWait(t, gCLI, "p/t", "from-h", "key=from-h use=0 server_id=1 gpc0=3")
	peersWait(t, hCLI, "p/t", "from-g", "key=from-g use=0 server_id=2 gpc0=4")
	// Plain text on the TLS listener gets no answer.
	c, err := net.DialTimeout("tcp", gPeer, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte("HAProxyS 2.1\ng\nh 1 1\n"))
	buf := make([]byte, 64)
	if n, _ := c.Read(buf); strings.HasPrefix(string(buf[:n]), "200") {
		t.Errorf("plain handshake answered %q", buf[:n])
	}
}
