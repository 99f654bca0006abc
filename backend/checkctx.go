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

// ExpectReport holds what an expect rule's options change in the check's
// reports: the infos of on-success and on-error, the statuses of
// ok-status, error-status and tout-status (CheckUnknown keeps the
// rule's own) and the code of status-code.
type ExpectReport struct {
	OnSuccess, OnError              func(*CheckCtx) []byte
	OkStatus, ErrStatus, ToutStatus CheckStatus
	StatusCode                      func(*CheckCtx) (int, bool)
}

// ParseStatus is the status of a short name (L7OK, L4CON...).
func ParseStatus(name string) (CheckStatus, bool) {
	for i, st := range checkStatuses {
		if st.name != "" && st.name == name {
			return CheckStatus(i), true
		}
	}
	return CheckUnknown, false
}

// or is the rule's status unless an option replaced it.
func (x *ExpectReport) or(set, own CheckStatus) CheckStatus {
	if set != CheckUnknown {
		return set
	}
	return own
}

// code is the code a report shows: status-code's, else the rule's own.
func (x *ExpectReport) code(c *CheckCtx, own int) int {
	if x.StatusCode != nil {
		if n, ok := x.StatusCode(c); ok {
			return n
		}
	}
	return own
}

// failure is the report of a failed expect rule
// (tcpcheck_expect_onerror_message): on-error's info, else desc, then
// the comment.
func (x *ExpectReport) failure(c *CheckCtx, own CheckStatus, code int, desc, comment string) string {
	if x.OnError != nil {
		desc = string(x.OnError(c))
	}
	if comment != "" {
		desc += " comment: " + comment
	}
	return statusReport(x.or(x.ErrStatus, own), x.code(c, code), desc)
}

// success is the report of a check whose last rule is this expect
// (tcpcheck_expect_onsuccess_message): on-success's info, else dflt.
func (x *ExpectReport) success(c *CheckCtx, code int, dflt string) string {
	desc := dflt
	if x.OnSuccess != nil {
		desc = string(x.OnSuccess(c))
	}
	return statusReport(x.or(x.OkStatus, CheckL7OKD), x.code(c, code), desc)
}

// statusReport words a status as srv_append_status does: its
// description, the code from the layer 7 results on, the info.
func statusReport(st CheckStatus, code int, info string) string {
	r := checkStatuses[st].desc
	if st >= CheckL57Data {
		r += ", code: " + strconv.Itoa(code)
	}
	if info != "" {
		r += `, info: "` + info + `"`
	}
	return r
}
