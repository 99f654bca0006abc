package backend

import (
	"strconv"
	"strings"
)

// CheckCtx is one run of a server's check as the parts the runtime
// compiles (log-format strings, set-var rules, patterns) see it.
type CheckCtx struct {
	Server *Server
	// Resp is the HTTP response of the current step, Data what a
	// tcp-check received so far.
	Resp *HTTPResponse
	Data []byte
	// State is the runtime's state of the run (its check variables),
	// created on first use.
	State any
}

// StateHeader is the value of the X-Haproxy-Server-State header that
// "http-check send-state" adds (httpchk_build_status_header); node is
// the process's node name.
func (s *Server) StateHeader(node string) string {
	c := &s.Check
	health := s.CheckHealth()
	var b strings.Builder
	st := s.State()
	switch {
	case !c.Enabled:
		b.WriteString("no check")
	case st == Up || st == Stopping:
		up, word := health == c.Rise+c.Fall-1, "UP"
		if st == Stopping {
			word = "NOLB"
		}
		b.WriteString(word)
		if !up {
			b.WriteString(" " + strconv.Itoa(health-c.Rise+1) + "/" + strconv.Itoa(c.Fall))
		}
	case health > 0:
		b.WriteString("DOWN " + strconv.Itoa(health) + "/" + strconv.Itoa(c.Rise))
	default:
		b.WriteString("DOWN")
	}
	host, port := "", ""
	if a := s.Address(); a != "" {
		host, port, _ = strings.Cut(a, ":")
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = strings.Trim(a[:i], "[]"), a[i+1:]
		}
	}
	be := s.Backend
	tot, beSess, queue := 0, 0, 0
	be.mu.Lock()
	for _, x := range be.Servers {
		if x.usable() && x.Backup == s.Backup {
			tot += x.weight()
		}
		beSess += x.cur
	}
	cur := s.cur
	queue = len(s.queue)
	beQueue := be.queueLenLocked()
	be.mu.Unlock()
	b.WriteString("; address=" + host + "; port=" + port + "; name=" + be.Name + "/" + s.Name + "; node=" + node +
		"; weight=" + strconv.Itoa(s.weight()) + "/" + strconv.Itoa(tot) +
		"; scur=" + strconv.Itoa(cur) + "/" + strconv.Itoa(beSess-beQueue) + "; qcur=" + strconv.Itoa(queue))
	return b.String()
}
