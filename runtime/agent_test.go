package runtime_test

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// agentServer answers each connection with its current line, after
// reading what the agent check sends; n counts the answers given to the
// server that sends "hello" since the line last changed (the other
// server's single check comes at a time of its own and must not count).
type agentServer struct {
	addr string
	mu   sync.Mutex
	line string
	sent map[string]bool
	n    int
}

func startAgentServer(t *testing.T) *agentServer {
	a := &agentServer{sent: map[string]bool{}}
	a.addr = serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		l, _ := bufio.NewReader(c).ReadString('\n')
		a.mu.Lock()
		if l != "" {
			a.sent[l] = true
		}
		line := a.line
		if l == "hello\n" {
			a.n++
		}
		a.mu.Unlock()
		c.Write([]byte(line))
	})
	return a
}

// answer changes the line, then waits until two checks got it, so that
// the first one's effects are applied.
func (a *agentServer) answer(t *testing.T, line string) {
	a.mu.Lock()
	a.line, a.n = line, 0
	a.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		n := a.n
		a.mu.Unlock()
		if n >= 2 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the agent was not asked for %q", line)
}

// TestAgentCheckMatchesHAProxy walks an agent through answers changing
// a server's weight, maxconn, admin state and health, and compares after
// each one "show servers state", the server's stats and the logs with
// HAProxy's.
func TestAgentCheckMatchesHAProxy(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	answers := []string{"up 50%\n", "75%,maxconn:30\n", "drain\n", "ready 100%\n", "down # going away\n", "up\n",
		"fail\n", "bogus 30%\n", "up\n", "5%x maxconn:\n", "STOPPED 20%\n", "UP\n", "no end", "maint\n", "down\n", "ready up\n"}
	statCols := []string{"svname", "status", "weight", "slim", "agent_status", "agent_code", "agent_desc", "agent_rise", "agent_fall", "agent_health", "chkdown"}
	// One agent for both, its port shows in "show servers state".
	agent := startAgentServer(t)
	// Each side runs in a subtest of its own, so that HAProxy is stopped,
	// and no longer asks the shared agent, when gohap starts.
	run := func(t *testing.T, name string) (steps []string, logs string, sent map[string]bool) {
		agent.mu.Lock()
		agent.line, agent.sent = answers[0], map[string]bool{}
		agent.mu.Unlock()
		sock := filepath.Join(t.TempDir(), "s.sock")
		fe := freePort(t)
		_, port, _ := net.SplitHostPort(agent.addr)
		cfg := fmt.Sprintf(`global
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %s
 default_backend be
backend be
 option log-health-checks
 server s 127.0.0.1:1 weight 40 agent-check agent-port %s agent-inter 60ms agent-send "hello\n"
 server t 127.0.0.1:1 weight 40 agent-check agent-addr 127.0.0.1 agent-port %s agent-inter 1h agent-send "t\n"
 server u 127.0.0.1:1 agent-check agent-port %s no-agent-check
`, sock, fe, port, port, port)
		var out func() string
		if name == "haproxy" {
			out = startHAProxyOut(t, cfg, fe).String
		} else {
			out = startGohapOut(t, cfg)
		}
		for _, a := range answers {
			agent.answer(t, a)
			// A check may be running when the state is read.
			state := sinceChange.ReplaceAllString(cliSend(t, "unix", sock, "show servers state be\n"), "$1 T ")
			state = agentRunning.ReplaceAllString(state, "${1} 22 ")
			// The first check of t comes at a time of its own.
			stat := strings.ReplaceAll(statFields(cliSend(t, "unix", sock, "show stat\n"), statCols), "* ", "")
			stat = stat[:strings.Index(stat, "svname=t")] + stat[strings.Index(stat, "svname=u"):]
			steps = append(steps, a+state+stat)
		}
		var lines []string
		for _, l := range strings.Split(out(), "\n") {
			if i := strings.Index(l, "Agent check for"); i >= 0 {
				lines = append(lines, durationRe.ReplaceAllString(l[i:], "check duration: Nms"))
			} else if i := strings.Index(l, "Server be/"); i >= 0 {
				lines = append(lines, l[i:])
			}
		}
		agent.mu.Lock()
		defer agent.mu.Unlock()
		return steps, strings.Join(lines, "\n"), agent.sent
	}
	var wantSteps, gotSteps []string
	var wantLogs, gotLogs string
	var wantSent, gotSent map[string]bool
	for _, side := range []string{"haproxy", "gohap"} {
		ok := t.Run(side, func(t *testing.T) {
			if side == "haproxy" {
				wantSteps, wantLogs, wantSent = run(t, side)
			} else {
				gotSteps, gotLogs, gotSent = run(t, side)
			}
		})
		if !ok {
			t.FailNow()
		}
	}
	same := 0
	for i := range wantSteps {
		if gotSteps[i] == wantSteps[i] {
			same++
			continue
		}
		t.Errorf("after %q:\nhaproxy:\n%s\ngohap:\n%s", answers[i], wantSteps[i], gotSteps[i])
	}
	if gotLogs != wantLogs {
		t.Errorf("logs:\nhaproxy:\n%s\ngohap:\n%s", wantLogs, gotLogs)
	}
	if fmt.Sprint(gotSent) != fmt.Sprint(wantSent) {
		t.Errorf("agent received %v, haproxy sent %v", gotSent, wantSent)
	}
	t.Logf("agent steps identical to HAProxy: %d/%d", same, len(wantSteps))
}

var agentRunning = regexp.MustCompile(`(?m)^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+ T \d+ \d+ \d+ \d+) 2\d `)

// statFields picks columns of the "show stat" CSV, one line a server.
func statFields(csv string, cols []string) string {
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) == 0 {
		return ""
	}
	head := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	idx := map[string]int{}
	for i, h := range head {
		idx[h] = i
	}
	var b strings.Builder
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) < 2 || f[1] == "FRONTEND" || f[1] == "BACKEND" {
			continue
		}
		for _, c := range cols {
			if i, ok := idx[c]; ok && i < len(f) {
				b.WriteString(c + "=" + f[i] + " ")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
