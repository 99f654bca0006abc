package runtime_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// protoServer answers its first connection with bad and every later one
// with good, after reading what the check sends (if it sends).
func protoServer(t *testing.T, reads bool, bad, good []byte) string {
	t.Helper()
	var n atomic.Int32
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if reads {
			buf := make([]byte, 1024)
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
		out := good
		if n.Add(1) == 1 {
			out = bad
		}
		// "|READ|" in an answer waits for the check's next message,
		// "|PAUSE|" sends what follows in another segment, a little later.
		for i, part := range bytes.Split(out, []byte("|READ|")) {
			if i > 0 {
				buf := make([]byte, 1024)
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
			for j, seg := range bytes.Split(part, []byte("|PAUSE|")) {
				if j > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				c.Write(seg)
			}
		}
		time.Sleep(50 * time.Millisecond)
	})
}

func mysqlPacket(seq byte, body string) []byte {
	n := len(body)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, body...)
}

var (
	mysqlGreeting = mysqlPacket(0, "\x0a5.7.99-test\x00\x01\x00\x00\x00abcdefgh\x00\xff\xf7\x21\x02\x00")
	mysqlOK       = mysqlPacket(2, "\x00\x00\x00\x02\x00\x00\x00")
	mysqlDenied   = mysqlPacket(2, "\xff\x15\x04#28000Access denied for user 'foo'")
	mysqlRefused  = mysqlPacket(0, "\xff\x6a\x04Host '127.0.0.1' is not allowed to connect")
	pgOK          = []byte("R\x00\x00\x00\x08\x00\x00\x00\x00")
	pgErr         = []byte("E\x00\x00\x00\x2aSFATAL\x00C28000\x00Mrole \"x\" does not exist\x00\x00")
	ldapOK        = []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	ldapBadCreds  = []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00}
	// ldapLong gives its lengths on 4 bytes, as Active Directory does.
	ldapLong     = []byte{0x30, 0x84, 0, 0, 0, 0x10, 0x02, 0x01, 0x01, 0x61, 0x84, 0, 0, 0, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}
	tlsAlert     = []byte{0x15, 0x03, 0x00, 0x00, 0x02, 0x02, 0x28}
	notAProtocol = []byte("HTTP/1.0 400 Bad Request\r\n\r\nnot what you expected")
)

// spopHello is an SPOE agent's HELLO frame (reg-tests/checks/spop-check.vtc).
var spopHello = spopFrame("00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF0 060C6361706162696C6974696573 0800")

func spopFrame(h string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

var reportRe = regexp.MustCompile(`Server (\S+) is (DOWN|UP), reason: (.*?), check duration`)

// TestProtocolChecksMatchHAProxy runs mysql-check, pgsql-check,
// ldap-check and ssl-hello-chk against fake servers that fail their first
// check and pass the next ones, and compares the DOWN and UP reports with
// HAProxy's.
func TestProtocolChecksMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type tc struct {
		name, option string
		reads        bool
		bad, good    []byte
	}
	cases := []tc{
		{"mysql_user", "mysql-check user foo", true, append(append([]byte{}, mysqlGreeting...), mysqlDenied...), append(append([]byte{}, mysqlGreeting...), mysqlOK...)},
		{"mysql_pre41", "mysql-check user foo pre-41", true, notAProtocol[:3], append(append([]byte{}, mysqlGreeting...), mysqlOK...)},
		{"mysql_greet", "mysql-check", false, mysqlRefused, mysqlGreeting},
		{"pgsql", "pgsql-check user x", true, pgErr, pgOK},
		{"pgsql_unknown", "pgsql-check user x", true, notAProtocol, pgOK},
		{"ldap", "ldap-check", true, ldapBadCreds, ldapOK},
		{"ldap_garbage", "ldap-check", true, notAProtocol, ldapOK},
		{"ldap_long", "ldap-check", true, ldapBadCreds, ldapLong},
		{"mysql_empty", "mysql-check", false, nil, mysqlGreeting},
		{"mysql_user_empty", "mysql-check user foo", true, nil, append(append([]byte{}, mysqlGreeting...), mysqlOK...)},
		{"pgsql_empty", "pgsql-check user x", true, nil, pgOK},
		{"ldap_empty", "ldap-check", true, nil, ldapOK},
		{"ssl_empty", "ssl-hello-chk", true, nil, tlsAlert},
		{"spop", "spop-check", true, spopFrame("00000000"), spopHello},
		{"spop_frag", "spop-check", true, spopFrame("00000007 65 00000000 0000"), spopHello},
		{"spop_version", "spop-check", true, spopFrame("00000014 65 00000001 0000 0776657273696F6E 0803312E30"), spopHello},
		{"spop_nosize", "spop-check", true, spopFrame("00000014 65 00000001 0000 0776657273696F6E 0803322E30"), spopHello},
		{"spop_discon", "spop-check", true, spopFrame("00000015 66 00000001 0000 0B7374617475732D636F6465 0308 036D7367 0800"), spopHello},
		{"spop_empty", "spop-check", true, nil, spopHello},
		{"ssl", "ssl-hello-chk", true, notAProtocol, tlsAlert},
	}
	same, total := compareCheckReports(t, "1s", 2*len(cases), func(b *strings.Builder) {
		for _, c := range cases {
			addr := protoServer(t, c.reads, c.bad, c.good)
			fmt.Fprintf(b, "backend be_%s\n option %s\n server s %s check inter 150ms rise 1 fall 1\n", c.name, c.option, addr)
		}
	})
	t.Logf("check reports identical to HAProxy: %d/%d", same, total)
	// With log-health-checks, the check's own report shows the info
	// (MySQL version, LDAP "Success") the change of state leaves out.
	same, total = compareReports(t, healthRe, "1s", 2*len(cases), func(b *strings.Builder) {
		for _, c := range cases {
			addr := protoServer(t, c.reads, c.bad, c.good)
			fmt.Fprintf(b, "backend be_%s\n option log-health-checks\n option %s\n server s %s check inter 150ms rise 1 fall 1\n", c.name, c.option, addr)
		}
	})
	t.Logf("log-health-checks reports identical to HAProxy: %d/%d", same, total)
}

var healthRe = regexp.MustCompile(`Health check for server (\S+) (succeeded|failed), reason: (.*?), check duration`)

// compareCheckReports runs the backends written by add under HAProxy and
// under gohap (add is called once for each, to start fresh servers),
// waits for n DOWN or UP reports and compares them one by one.
func compareCheckReports(t *testing.T, checkTimeout string, n int, add func(b *strings.Builder)) (same, total int) {
	t.Helper()
	return compareReports(t, reportRe, checkTimeout, n, add)
}

// compareReports is compareCheckReports for the reports re finds: the
// key of a report is its first two groups, its text the third.
func compareReports(t *testing.T, re *regexp.Regexp, checkTimeout string, n int, add func(b *strings.Builder)) (same, total int) {
	t.Helper()
	run := func(start func(cfg, fe string) func() string) map[string]string {
		fe := freePort(t)
		var b strings.Builder
		fmt.Fprintf(&b, "defaults\n mode tcp\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n timeout check %s\n", checkTimeout)
		fmt.Fprintf(&b, "frontend fe\n bind %s\n", fe)
		add(&b)
		out := start(b.String(), fe)
		got := map[string]string{}
		// The loop ends as soon as every report is in; the bound is for a
		// loaded machine.
		deadline := time.Now().Add(20 * time.Second)
		for len(got) < n && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			for _, m := range re.FindAllStringSubmatch(out(), -1) {
				got[m[1]+" "+m[2]] = m[3]
			}
		}
		return got
	}
	want := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	got := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] == want[k] {
			same++
		} else {
			t.Errorf("%s:\n haproxy: %s\n gohap:   %s", k, want[k], got[k])
		}
	}
	if len(want) != n {
		t.Errorf("haproxy reported %d transitions, want %d: %v", len(want), n, want)
	}
	return same, len(want)
}

var stateLineRe = regexp.MustCompile(`(Health check for .*|(Backup )?Server \S+ is (UP|DOWN).*|backend '\S+' has no server available!)`)
var durationRe = regexp.MustCompile(`check duration: \d+ms`)

// TestCheckLogsMatchHAProxy compares, line for line, what HAProxy and
// gohap log while servers go down and come back: the log-health-checks
// reports with their health counters, and the state changes of active
// and backup servers with their counts, and of servers tracking others.
func TestCheckLogsMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string) func() string) map[string][]string {
		fe, port := freePort(t), freePort(t)
		cfg := fmtCfg(baseDefaults+`frontend fe
 bind %[1]s
 default_backend b1
backend b1
 option log-health-checks
 server s %[2]s check inter 100ms rise 2 fall 3
backend b2
 option log-health-checks
 server t %[2]s check inter 100ms rise 1 fall 1 backup
backend b3
 server u %[2]s check inter 100ms rise 2 fall 2
 server v %[2]s backup
backend b4
 server x %[2]s track b1/s
 server y %[2]s track b4/x backup
`, fe, port)
		out := start(cfg, fe)
		// Each phase ends on the lines it waits for, so that a slow start
		// on a loaded machine shifts both proxies alike; the bounds are for
		// a loaded machine, and the short pause lets late lines in.
		waitLines(out, 10*time.Second, "Server b1/s is DOWN", "Backup Server b2/t is DOWN",
			"Server b3/u is DOWN", "Backup Server b4/y is DOWN")
		time.Sleep(150 * time.Millisecond)
		ln, err := net.Listen("tcp", port)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go acceptClose(ln)
		waitLines(out, 10*time.Second, "Server b1/s is UP", "Backup Server b2/t is UP",
			"Server b3/u is UP", "Backup Server b4/y is UP")
		time.Sleep(150 * time.Millisecond)
		per := map[string][]string{}
		for _, l := range stateLineRe.FindAllString(out(), -1) {
			l = durationRe.ReplaceAllString(strings.TrimSuffix(l, "."), "check duration: Nms")
			for _, b := range []string{"b1", "b2", "b3", "b4"} {
				if strings.Contains(l, " "+b+"/") || strings.Contains(l, "'"+b+"'") {
					per[b] = append(per[b], l)
				}
			}
		}
		return per
	}
	want := run(func(cfg, fe string) func() string { return startHAProxyOut(t, cfg, fe).String })
	got := run(func(cfg, _ string) func() string { return startGohapOut(t, cfg) })
	same, total := 0, 0
	for _, b := range []string{"b1", "b2", "b3", "b4"} {
		w, g := strings.Join(want[b], "\n"), strings.Join(got[b], "\n")
		total += len(want[b])
		if w != g {
			t.Errorf("%s:\nhaproxy:\n%s\ngohap:\n%s", b, w, g)
			continue
		}
		same += len(want[b])
	}
	if total < 8 {
		t.Errorf("haproxy logged only %d lines: %v", total, want)
	}
	t.Logf("check log lines identical to HAProxy: %d/%d", same, total)
}

// waitLines waits, at most d, until out has every one of lines.
func waitLines(out func() string, d time.Duration, lines ...string) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		all, s := true, out()
		for _, l := range lines {
			all = all && strings.Contains(s, l)
		}
		if all {
			return
		}
	}
}

// startGohapOut starts gohap and returns what it logs, a line a message.
func startGohapOut(t *testing.T, cfg string) func() string {
	core, logs := observer.New(zap.InfoLevel)
	startGohapLog(t, cfg, nil, zap.New(core))
	return func() string {
		var all []string
		for _, e := range logs.All() {
			all = append(all, e.Message)
		}
		return strings.Join(all, "\n")
	}
}

// TestOnMarkedDownShutsSessions holds a WebSocket tunnel through each of
// two backends whose server goes down: with on-marked-down
// shutdown-sessions the tunnel is closed, without it the tunnel keeps
// working, under HAProxy and under gohap alike.
func TestOnMarkedDownShutsSessions(t *testing.T) {
	run := func(start func(cfg, fe string)) (string, string) {
		echo := startEcho(t, "a")
		chk, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go acceptClose(chk)
		_, port, _ := net.SplitHostPort(chk.Addr().String())
		fe := freePort(t)
		start(fmtCfg(baseDefaults+` timeout tunnel 30s
frontend fe
 bind %[1]s
 use_backend kill if { path_beg /kill }
 default_backend keep
backend kill
 server a %[2]s check port %[3]s inter 100ms fall 1 rise 1 on-marked-down shutdown-sessions
backend keep
 server a %[2]s check port %[3]s inter 100ms fall 1 rise 1
`, fe, echo.Addr(), port), fe)
		wsKill, wsKeep := wsDial(t, fe, "/kill"), wsDial(t, fe, "/keep")
		defer wsKill.Close()
		defer wsKeep.Close()
		chk.Close()
		// Both servers go down within a few check intervals.
		time.Sleep(600 * time.Millisecond)
		state := func(c *websocket.Conn) string {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			c.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if err := c.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
				return "closed"
			}
			if _, m, err := c.ReadMessage(); err != nil || string(m) != "ping" {
				return "closed"
			}
			return "open"
		}
		return state(wsKill), state(wsKeep)
	}
	if haproxyBin() != "" {
		k, o := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
		if k != "closed" || o != "open" {
			t.Errorf("haproxy: shutdown-sessions tunnel %s, plain tunnel %s", k, o)
		}
	}
	k, o := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if k != "closed" || o != "open" {
		t.Errorf("gohap: shutdown-sessions tunnel %s, plain tunnel %s; want closed and open", k, o)
	}
}

// TestTCPChecksMatchHAProxy compares the DOWN and UP reports of
// tcp-check rule sets, redis-check and smtpchk with HAProxy's, against
// fake servers failing their first check and passing the next ones.
func TestTCPChecksMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	type tc struct {
		name, rules string
		reads       bool
		bad, good   string
		viaPort     bool
	}
	cases := []tc{
		{"string", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"rstring", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect rstring ^\\+PONG", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"binary", "option tcp-check\n tcp-check send-binary 50494e470d0a\n tcp-check expect binary 2b504f4e47", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"negated", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect ! string -ERR", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"explicit", "option tcp-check\n tcp-check connect\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"port", "option tcp-check\n tcp-check connect port %[2]s\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", true, "-ERR x\r\n", "+PONG\r\n", true},
		{"banner", "option tcp-check\n tcp-check expect string ready", false, "busy\r\n", "ready\r\n", false},
		{"comments", "option tcp-check\n tcp-check connect\n tcp-check comment PINGING\\ Redis\n tcp-check send PING\\r\\n\n tcp-check comment Expecting\\ PONG\n tcp-check expect string +PONG", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"inline-comment", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect rstring ^\\+PONG comment pong\\ please", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"redis", "option redis-check", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"smtp", "option smtpchk", false, "554 go away\r\n", "220 hello\r\n|READ|250 pleased\r\n|READ|221 bye\r\n", false},
		{"smtp-ehlo", "option smtpchk EHLO example.com", false, "220 hi\r\n|READ|550-no\r\n550 really no\r\n", "220 hi\r\n|READ|250-a\r\n250 ok go\r\n|READ|221 bye now\r\n", false},
		{"smtp-garbage", "option smtpchk", false, "HTTP/1.0 400\r\n", "220 x\r\n|READ|250 y\r\n|READ|221 z\r\n", false},
		{"redis-garbage", "option redis-check", true, "hello", "+PONG\r\n", false},
		{"smtp-split", "option smtpchk EHLO example.com", false, "220 hi\r\n|READ|250-a\r\n|PAUSE|550 no\r\n", "220 hi\r\n|READ|250-a\r\n|PAUSE|250-b\r\n|PAUSE|250 ok\r\n|READ|221 bye\r\n", false},
		{"negated-wait", "option tcp-check\n tcp-check expect ! rstring ^error\n tcp-check expect string valid", false, "error x", "valid", false},
		{"glued-min-recv", "option tcp-check\n tcp-check expect min-recv 5 !rstring ^error\n tcp-check expect string valid", false, "errorvalid", "valid", false},
		{"redis-empty", "option redis-check", true, "", "+PONG\r\n", false},
		{"redis-reset", "option redis-check", false, "", "+PONG\r\n", false},
		{"tcp-reset", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check comment pong\n tcp-check expect string +PONG", false, "", "+PONG\r\n", false},
		{"smtp-empty", "option smtpchk", false, "", "220 x\r\n|READ|250 y\r\n|READ|221 z\r\n", false},
		{"smtp-hello-empty", "option smtpchk", false, "220 x\r\n|READ|", "220 x\r\n|READ|250 y\r\n|READ|221 z\r\n", false},
		{"smtp-quit-empty", "option smtpchk", false, "220 x\r\n|READ|250 y\r\n|READ|", "220 x\r\n|READ|250 y\r\n|READ|221 z\r\n", false},
		{"tcp-empty", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG comment pong", true, "", "+PONG\r\n", false},
		{"on-error", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG error-status L7STS on-error \"got %[res.payload(0,4)]\" status-code int(42) comment c", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"on-success", "option tcp-check\n tcp-check expect string ready on-success \"ok:%[res.payload(0,5)]\" ok-status L6OK status-code res.payload(5,1)", false, "busy\r\n", "ready7\r\n", false},
		{"rbinary", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect rbinary ^2B504F", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"binary-lf", "option tcp-check\n tcp-check set-var(check.b) str(2b504f4e47)\n tcp-check send PING\\r\\n\n tcp-check expect binary-lf %[var(check.b)]", true, "-ERR x\r\n", "+PONG\r\n", false},
		{"tout-status", "option tcp-check\n tcp-check expect string never tout-status L4TOUT", false, "+PO|READ|", "never", false},
		{"timeout-string", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", true, "+PO|READ|", "+PONG\r\n", false},
		{"timeout-regex", "option tcp-check\n tcp-check expect min-recv 9 rstring ^\\+PONG", false, "+PO|READ|", "+PONG\r\n\r\n\r\n", false},
		{"set-var-lf", "option tcp-check\n tcp-check set-var(check.cmd) str(PING)\n tcp-check set-var(check.want) str(+PONG)\n tcp-check send-lf %[var(check.cmd)]\\r\\n\n tcp-check expect string-lf %[var(check.want)]", true, "-ERR x\r\n", "+PONG\r\n", false},
	}
	same, total := compareCheckReports(t, "500ms", 2*len(cases), func(b *strings.Builder) {
		for _, c := range cases {
			addr := protoServer(t, c.reads, []byte(c.bad), []byte(c.good))
			_, port, _ := net.SplitHostPort(addr)
			if c.viaPort {
				addr = "127.0.0.1:1"
			}
			fmt.Fprintf(b, "backend be_%s\n %s\n server s %s check inter 150ms rise 1 fall 1\n", c.name, strings.ReplaceAll(c.rules, "%[2]s", port), addr)
		}
	})
	t.Logf("tcp-check reports identical to HAProxy: %d/%d", same, total)
}

// TestCheckLingerMatchesHAProxy: HAProxy closes a check's connection
// with a reset, or with a FIN under "connect linger"; the servers record
// which they see.
func TestCheckLingerMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	run := func(start func(cfg, fe string)) string {
		var mu sync.Mutex
		seen := map[string]string{}
		server := func(name string) string {
			return serveRaw(t, func(c net.Conn) {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				switch name {
				case "mysql":
					c.Write(mysqlGreeting)
				case "smtp":
					c.Write([]byte("220 hi\r\n"))
				}
				buf := make([]byte, 1024)
				_, err := c.Read(buf)
				if err == nil {
					c.Write([]byte("+PONG\r\nHTTP/1.0 200 OK\r\n\r\n"))
					if name == "smtp" {
						c.Write([]byte("250 ok\r\n"))
						if _, err = c.Read(buf); err == nil {
							c.Write([]byte("221 bye\r\n"))
						}
					}
					if err == nil {
						_, err = c.Read(buf)
					}
				}
				kind := "fin"
				if isReset(err) {
					kind = "reset"
				}
				mu.Lock()
				seen[name] = kind
				mu.Unlock()
			})
		}
		fe := freePort(t)
		var b strings.Builder
		fmt.Fprintf(&b, baseDefaults+"frontend fe\n bind %s\n default_backend tcp\n", fe)
		for _, c := range []struct{ name, rules string }{
			{"tcp", "option tcp-check\n tcp-check connect\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG"},
			{"tcplinger", "option tcp-check\n tcp-check connect linger\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG"},
			{"http", "option httpchk\n http-check connect\n http-check send meth GET uri /"},
			{"httplinger", "option httpchk\n http-check connect linger\n http-check send meth GET uri /"},
			{"plainhttp", "option httpchk GET /"},
			{"redis", "option redis-check"},
			{"ldap", "option ldap-check"},
			{"pgsql", "option pgsql-check user x"},
			{"mysql", "option mysql-check"},
			{"smtp", "option smtpchk"},
		} {
			fmt.Fprintf(&b, "backend %s\n %s\n server s %s check inter 200ms\n", c.name, c.rules, server(c.name))
		}
		start(b.String(), fe)
		// Until every server has seen a check end, however slow the
		// machine.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			mu.Lock()
			n := len(seen)
			mu.Unlock()
			if n == 10 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, n := range []string{"tcp", "tcplinger", "http", "httplinger", "plainhttp", "redis", "ldap", "pgsql", "mysql", "smtp"} {
			out = append(out, n+" "+seen[n])
		}
		return strings.Join(out, ", ")
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	if got != want {
		t.Errorf("haproxy: %s\ngohap:   %s", want, got)
	}
	t.Logf("check connection closes: %s", want)
}

// TestTCPCheckSuccessReportsMatchHAProxy compares the report of a
// passing tcp-check by the kind of its last rule: none, a connect, a
// send, an action.
func TestTCPCheckSuccessReportsMatchHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases := []struct{ name, rules string }{
		{"none", "option tcp-check"},
		{"connect", "option tcp-check\n tcp-check connect"},
		{"send", "option tcp-check\n tcp-check send PING\\r\\n"},
		{"connect-send", "option tcp-check\n tcp-check connect\n tcp-check send-binary 50"},
		{"action", "option tcp-check\n tcp-check set-var(check.x) str(a)"},
		{"expect-action", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string PONG\n tcp-check unset-var(check.x)"},
	}
	same, total := compareReports(t, healthRe, "1s", len(cases), func(b *strings.Builder) {
		for _, c := range cases {
			addr := protoServer(t, false, nil, []byte("+PONG\r\n"))
			fmt.Fprintf(b, "backend be_%s\n option log-health-checks\n %s\n server s %s check inter 150ms rise 1 fall 1\n", c.name, c.rules, addr)
		}
	})
	t.Logf("tcp-check success reports identical to HAProxy: %d/%d", same, total)
}

// TestCheckConnectPreambleMatchesHAProxy: check-send-proxy and
// "connect send-proxy" put a PROXY header on the connections of the
// implicit connect and of "connect default" or "connect send-proxy"
// rules only, as HAProxy's tcpcheck_eval_connect does; each server
// records the first bytes of each connection.
func TestCheckConnectPreambleMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	cases := []struct{ name, rules, server string }{
		{"implicit", "option tcp-check\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", "check-send-proxy"},
		{"explicit", "option tcp-check\n tcp-check connect\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", "check-send-proxy"},
		{"default", "option tcp-check\n tcp-check connect default\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", "check-send-proxy"},
		{"rule", "option tcp-check\n tcp-check connect send-proxy\n tcp-check send PING\\r\\n\n tcp-check expect string +PONG", ""},
		{"http-explicit", "option httpchk\n http-check connect\n http-check send meth GET uri /x", "check-send-proxy"},
		{"http-default", "option httpchk\n http-check connect default", "check-send-proxy"},
	}
	run := func(start func(cfg, fe string)) map[string]string {
		var mu sync.Mutex
		seen := map[string]string{}
		var b strings.Builder
		fe := freePort(t)
		fmt.Fprintf(&b, "defaults\n mode tcp\n timeout connect 1s\n timeout client 2s\n timeout server 2s\n timeout check 1s\nfrontend fe\n bind %s\n", fe)
		for _, c := range cases {
			name := c.name
			addr := serveRaw(t, func(conn net.Conn) {
				conn.SetReadDeadline(time.Now().Add(time.Second))
				buf := make([]byte, 256)
				n, _ := conn.Read(buf)
				head := string(buf[:n])
				if strings.HasPrefix(head, "PROXY ") {
					head = "PROXY"
				}
				mu.Lock()
				seen[name] = head
				mu.Unlock()
				conn.Write([]byte("+PONG\r\nHTTP/1.0 200 OK\r\n\r\n"))
			})
			fmt.Fprintf(&b, "backend be_%s\n %s\n server s %s check inter 100ms %s\n", c.name, c.rules, addr, c.server)
		}
		start(b.String(), fe)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(seen)
			mu.Unlock()
			if n == len(cases) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		out := map[string]string{}
		for k, v := range seen {
			out[k] = v
		}
		return out
	}
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	for _, c := range cases {
		if want[c.name] != got[c.name] {
			t.Errorf("%s: haproxy's check sent %q, gohap's %q", c.name, want[c.name], got[c.name])
		}
	}
	// Both kinds of connections are in the comparison.
	if want["implicit"] != "PROXY" || want["explicit"] == "PROXY" {
		t.Errorf("haproxy's checks sent %q", want)
	}
}
