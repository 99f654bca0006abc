package backend

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Agent is a server's agent check (agent-check): at each interval a
// connection to the agent, which answers one line of words changing the
// server's weight, maxconn, administrative state and health.
type Agent struct {
	Enabled bool
	// Spread is spread-checks, as Check.Spread.
	Spread int
	// Addr is host:port of the agent; Send what is written first.
	Addr string
	Send []byte
	// Inter is the interval between checks, Timeout bounds one (zero
	// uses Inter).
	Inter, Timeout time.Duration
	// Rise and Fall bound the agent's health, as a check's.
	Rise, Fall int
	// First is when the first check runs (SpreadChecks).
	First time.Duration

	health, status atomic.Int32
	inProgress     atomic.Bool
	// desc and dur are the last report's info and duration, guarded by
	// the server's mu.
	desc string
	dur  time.Duration
}

// Agent check state flag (CHK_ST_AGENT).
const checkAgent = 0x10

// AgentState is the agent check's CHK_ST_* flags, 0 without one.
func (s *Server) AgentState() int {
	if !s.Agent.Enabled {
		return 0
	}
	st := CheckConfigured | CheckEnabled | checkAgent
	if s.agentOff() {
		st &^= CheckEnabled
	}
	if s.Agent.inProgress.Load() {
		st |= CheckInProgress
	}
	return st
}

// AgentStatus and AgentHealth are the agent check's last status and
// health.
func (s *Server) AgentStatus() CheckStatus { return CheckStatus(s.Agent.status.Load()) }
func (s *Server) AgentHealth() int         { return int(s.Agent.health.Load()) }

// AgentReport returns the agent check's last info and duration.
func (s *Server) AgentReport() (desc string, dur time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Agent.desc, s.Agent.dur
}

// agentOK reports whether the agent lets the server be up.
func (s *Server) agentOK() bool {
	return !s.Agent.Enabled || s.AgentHealth() >= s.Agent.Rise
}

// checkOK reports whether the health check lets the server be up.
func (s *Server) checkOK() bool {
	return !s.Check.Enabled || s.CheckHealth() >= s.Check.Rise
}

func (s *Server) agentLoop(ctx context.Context) {
	a := &s.Agent
	t := time.NewTimer(a.First)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.agentOff() {
			t.Reset(a.Inter)
			continue
		}
		// Unlike health checks, agent checks go on in maintenance: an
		// agent's "ready" ends it.
		a.inProgress.Store(true)
		checkSessions.Add(1)
		start := time.Now()
		line, st, desc, done := s.agentProbe(ctx)
		if ctx.Err() != nil {
			done()
			return
		}
		a.inProgress.Store(false)
		// The answer applies before the connection closes, as HAProxy
		// ends the check after its last rule.
		s.agentResult(line, st, desc, time.Since(start))
		done()
		// The next check comes an interval after this one ended.
		t.Reset(spreadInter(a.Inter, a.Spread))
	}
}

// agentProbe connects to the agent, sends its string and reads its line.
// Without a line, st and desc are the failure's status and info. done
// closes the connection.
func (s *Server) agentProbe(ctx context.Context) (line []byte, st CheckStatus, desc string, done func()) {
	done = func() {}
	a := &s.Agent
	timeout := a.Timeout
	if timeout == 0 {
		timeout = a.Inter
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	if s.Source != nil {
		// The agent is connected to as the server (tcp_connect_server).
		d.Control = s.Source.Control
	}
	d.Control = s.SockOpts.Control(d.Control)
	conn, err := DialIn(cctx, s.NetNS, &d, s.agentAddr())
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, CheckL4Con, "Connection refused", done
		case cctx.Err() != nil:
			return nil, CheckL4Tout, "", done
		}
		return nil, CheckL4Con, "General socket error", done
	}
	conn.(*net.TCPConn).SetLinger(0)
	done = func() { conn.Close() }
	deadline, _ := cctx.Deadline()
	conn.SetDeadline(deadline)
	if send := s.agentSend(); len(send) > 0 {
		if _, err := conn.Write(send); err != nil {
			return nil, CheckL4Con, "Connection reset by peer", done
		}
	}
	var got []byte
	buf := make([]byte, 1024)
	for len(got) < checkBufSize {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if i := bytes.IndexAny(got, "\r\n"); i >= 0 {
			return got[:i], 0, "", done
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, CheckL7Tout, "", done
			}
			if len(got) == 0 {
				return nil, CheckL7Rsp, "TCPCHK got an empty response at step 2", done
			}
			break
		}
	}
	// A line without its end is reported, keeping the status.
	return nil, s.AgentStatus(), "Ignoring incomplete line from agent", done
}

// agentResult applies an agent's answer as tcpcheck_agent_expect_reply
// and the check's end do: admin state first, then weight and maxconn,
// then health.
func (s *Server) agentResult(line []byte, st CheckStatus, desc string, dur time.Duration) {
	a := &s.Agent
	b := s.Backend
	var hs, as, ps, sc, errw, wrn string
	if line != nil {
		st = CheckChecked
		words := string(line)
		if i := strings.IndexByte(words, '#'); i >= 0 {
			desc = strings.TrimLeft(words[i+1:], " \t")
			words = words[:i]
		}
		for _, w := range strings.FieldsFunc(words, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
			switch lw := strings.ToLower(w); {
			case lw == "up":
				a.health.Store(int32(a.Rise + a.Fall - 1))
				st, hs = CheckL7OKD, w
			case lw == "down" || lw == "stopped" || lw == "fail":
				a.health.Store(0)
				st, hs = CheckL7Sts, w
			case lw == "ready" || lw == "drain" || lw == "maint":
				as = lw
			case w[0] >= '0' && w[0] <= '9' && strings.IndexByte(w, '%') >= 0:
				ps = w
			case strings.HasPrefix(lw, "maxconn:"):
				sc = w[len("maxconn:"):]
			default:
				if errw == "" {
					errw = w
				}
			}
		}
		desc = strings.TrimLeft(desc, " \n")
		var chs []AdminChange
		switch as {
		case "drain":
			chs = s.SetDrain()
		case "maint":
			chs = s.Disable()
		case "ready":
			chs = append(s.Enable(), s.ClearDrain()...)
		}
		if b.OnAdmin != nil {
			for _, ch := range chs {
				b.OnAdmin(ch)
			}
		}
		if ps != "" {
			if msg := s.weightChange(ps); wrn == "" {
				wrn = msg
			}
		}
		if sc != "" {
			if msg := s.maxconnChange(sc); wrn == "" {
				wrn = msg
			}
		}
		switch {
		case hs != "":
			msg := desc
			if msg == "" || st == CheckL7OKD {
				if errw != "" {
					msg = errw
				} else if wrn != "" {
					msg = wrn
				}
			}
			desc = "via agent : " + hs
			if msg != "" {
				desc += " (" + msg + ")"
			}
		case errw != "":
			desc = "agent reports an error : " + errw
		case wrn != "":
			desc = "agent warns : " + wrn
		default:
			desc = ""
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.AgentStatus()
	a.status.Store(int32(st))
	a.desc, a.dur = desc, dur
	res := checkStatuses[st].result
	if res == ResultNeutral {
		// set_server_check_status: no change is expected.
		return
	}
	health := s.AgentHealth()
	report := false
	switch res {
	case ResultFailed:
		// Failing to reach the agent does not count against the server.
		if st >= CheckL57Data && health > 0 {
			report = true
			if health--; health < a.Rise {
				health = 0
			}
		}
	case ResultPassed:
		if health < a.Rise+a.Fall-1 {
			report = true
			if health++; health >= a.Rise {
				health = a.Rise + a.Fall - 1
			}
		}
	}
	a.health.Store(int32(health))
	reason := checkStatuses[st].desc
	if st >= CheckL57Data {
		reason += ", code: 0"
	}
	if desc != "" {
		reason += `, info: "` + desc + `"`
	}
	reason += ", check duration: " + ms(dur)
	if b.LogHealthChecks && b.OnCheck != nil && (st != prev || report) {
		status := itoa(health) + "/" + itoa(a.Rise) + " DOWN"
		if health >= a.Rise {
			word := "UP"
			if s.weight() == 0 {
				word = "DRAIN"
			}
			status = itoa(health-a.Rise+1) + "/" + itoa(a.Fall) + " " + word
		}
		kind := "failed"
		if res >= ResultPassed {
			kind = "succeeded"
		}
		bk := ""
		if s.Backup {
			bk = "backup "
		}
		b.OnCheck(s, "Agent check for "+bk+"server "+b.Name+"/"+s.Name+" "+kind+", reason: "+reason+", status: "+status)
	}
	// check_notify_failure and check_notify_success for an agent: only
	// an agent's "down" takes the server down.
	switch cur := s.State(); {
	case res == ResultFailed && st == CheckL7Sts && health == 0 && (cur == Up || cur == Stopping):
		s.setStateLocked(Down, reason+".")
	case res == ResultPassed && cur == Down && s.checkOK() && s.agentOK() && s.trackedUp():
		s.setStateLocked(Up, reason+".")
	}
}

// trackedUp reports whether a tracked server, if any, is not down.
func (s *Server) trackedUp() bool {
	return s.Tracked == nil || s.Tracked.State() != Down && s.Tracked.State() != Maint
}

// weightChange is server_parse_weight_change_request; it returns
// HAProxy's message when the weight is refused.
func (s *Server) weightChange(v string) string {
	n, rest := leadingInt(v)
	switch {
	case rest == v:
		return "Empty weight string empty or preceded by garbage"
	case rest == "%":
		if n < 0 {
			return "Relative weight must be positive.\n"
		}
		n = min(n, 25600)
		n = min(s.Weight*n/100, 256)
	case n < 0 || n > 256:
		return "Absolute weight can only be between 0 and 256 inclusive.\n"
	case rest != "":
		return "Trailing garbage in weight string"
	}
	if err := s.SetWeight(n); err != nil {
		return err.Error() + "\n"
	}
	return ""
}

// maxconnChange is server_parse_maxconn_change_request.
func (s *Server) maxconnChange(v string) string {
	n, rest := leadingInt(v)
	switch {
	case rest == v:
		return "maxconn string empty"
	case rest != "":
		return "Trailing garbage in maxconn string"
	}
	s.SetMaxconn(n)
	return ""
}

// SetMaxconn changes the server's maxconn (and its minconn when they
// were equal), then serves its queue within the new limit.
func (s *Server) SetMaxconn(n int) {
	b := s.Backend
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.Maxconn == s.Minconn {
		s.Minconn = n
	}
	s.Maxconn = n
	b.serveQueuesLocked(s)
}

// leadingInt reads an optionally signed decimal number as strtol does,
// returning the rest.
func leadingInt(v string) (int, string) {
	i := 0
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		i++
	}
	j := i
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if j == i {
		return 0, v
	}
	n, _ := strconv.Atoi(v[:j])
	return n, v[j:]
}
