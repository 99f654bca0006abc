package backend

import (
	"strconv"
	"strings"
	"time"
)

// Admin is a server's administrative state, HAProxy's SRV_ADMF_* flags
// (include/haproxy/server-t.h), as "show servers state" reports it.
type Admin uint32

// Admin flags.
const (
	// AdminForcedMaint is maintenance asked for: "disable server" on
	// the CLI, or "disabled" on the server line.
	AdminForcedMaint Admin = 0x01
	// AdminInheritedMaint is maintenance inherited from the tracked
	// server.
	AdminInheritedMaint Admin = 0x02
	// AdminConfigMaint marks a server the configuration disabled.
	AdminConfigMaint Admin = 0x04
	// AdminForcedDrain is drain mode asked for: the server stays up but
	// gets no new traffic from load balancing.
	AdminForcedDrain Admin = 0x08
	// AdminResolveMaint is maintenance for want of an address.
	AdminResolveMaint Admin = 0x20

	adminMaint = AdminForcedMaint | AdminInheritedMaint | AdminResolveMaint
)

// Admin returns the server's administrative flags.
func (s *Server) Admin() Admin { return Admin(s.admin.Load()) }

func (s *Server) inMaint() bool { return s.Admin()&adminMaint != 0 }

// SetConfigMaint puts the server in the maintenance of a "disabled"
// server line, at start.
func (s *Server) SetConfigMaint() {
	s.state.Store(int32(Maint))
	// HAProxy pauses even the check the server does not have.
	s.paused.Store(true)
	s.health.Store(0)
	s.admin.Store(uint32(s.Admin() | AdminForcedMaint | AdminConfigMaint))
}

// AdminChange is a server entering or leaving maintenance, with
// HAProxy's report of it.
type AdminChange struct {
	Server *Server
	// Text is HAProxy's log line, without its final period.
	Text string
	// Down says the server stopped taking traffic, NoServer that its
	// backend has no usable server left, Up that it takes traffic again.
	Down, NoServer, Up bool
	// WasDown says a server entering maintenance was down already;
	// Status is the end of Text HAProxy's srv_append_status writes
	// (". N active and M backup servers left. ..."), "" when none.
	WasDown bool
	Status  string
	// To is the state of a server leaving maintenance; StillMaint says
	// it left one cause of maintenance but another one holds it.
	To         State
	StillMaint bool
}

// SetResolveMaint puts s in maintenance for want of an address
// (SRV_ADMF_RMAINT), as a resolver error outliving its hold period does.
func (s *Server) SetResolveMaint() []AdminChange { return s.setAdmin(AdminResolveMaint, nil) }

// ClearResolveMaint ends the maintenance for want of an address once the
// name resolves again.
func (s *Server) ClearResolveMaint() []AdminChange { return s.clrAdmin(AdminResolveMaint, nil) }

// Disable puts s in maintenance, as "disable server" does (HAProxy's
// srv_adm_set_maint): the balancer gives it no new request, its queue
// is dispatched again under "option redispatch", its checks pause and
// its trackers inherit the maintenance. It returns the changes in
// HAProxy's order, none when s was in forced maintenance already.
func (s *Server) Disable() []AdminChange { return s.setAdmin(AdminForcedMaint, nil) }

// DisableFor is Disable with the cause its report names in parentheses
// (srv_set_admin_flag's cause: the stats page's older "disable").
func (s *Server) DisableFor(cause string) []AdminChange {
	s.mu.Lock()
	s.admCause = cause
	s.mu.Unlock()
	return s.setAdmin(AdminForcedMaint, nil)
}

// Enable ends the forced maintenance of s, as "enable server" does
// (srv_adm_set_ready): s comes back up at once unless it tracks a server
// that is down, its checks resume from rise and decide from the next
// one, and its trackers leave the maintenance they inherited.
func (s *Server) Enable() []AdminChange { return s.clrAdmin(AdminForcedMaint, nil) }

// label is "Server b/s" or "Backup Server b/s".
func (s *Server) label() string {
	l := "Server " + s.Backend.Name + "/" + s.Name
	if s.Backup {
		l = "Backup " + l
	}
	return l
}

func (s *Server) via() string {
	if s.Tracked == nil {
		return ""
	}
	return " via " + s.Tracked.Backend.Name + "/" + s.Tracked.Name
}

// setAdmin is srv_set_admin_flag with srv_update_status's entering of
// maintenance.
func (s *Server) setAdmin(mode Admin, out []AdminChange) []AdminChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Admin()
	if cur&mode != 0 {
		return out
	}
	next := cur | mode
	s.admin.Store(uint32(next))
	cause := s.admCause
	s.admCause = ""
	if cur&adminMaint == 0 {
		via := ""
		if next&AdminForcedMaint == 0 {
			via = s.via()
		} else if cause != "" {
			via = " (" + cause + ")"
		}
		// Only a running check pauses (CHK_ST_ENABLED): one stopped by
		// "disable health" keeps its health and stays unpaused.
		if s.Check.Enabled && !s.checkOff() {
			s.paused.Store(true)
			s.health.Store(0)
		}
		if st := s.State(); st == Down {
			s.state.Store(int32(Maint))
			out = append(out, AdminChange{Server: s, Text: s.label() + " was DOWN and now enters maintenance" + via, WasDown: true})
		} else {
			s.health.Store(0)
			s.lastChange.Store(time.Now().Unix())
			s.state.Store(int32(Maint))
			ch := s.moveLocked(st, Maint)
			prev := ch.Active + ch.Backup
			if st == Up && s.weight() > 0 {
				prev++
			}
			st := ". " + strconv.Itoa(ch.Active) + " active and " + strconv.Itoa(ch.Backup) + " backup servers left."
			if ch.Backup > 0 && ch.Active == 0 {
				st += " Running on backup."
			}
			st += " " + strconv.Itoa(ch.Sessions) + " sessions active, " + strconv.Itoa(ch.Requeued) + " requeued, " +
				strconv.Itoa(ch.Queue) + " remaining in queue"
			out = append(out, AdminChange{Server: s, Text: s.label() + " is going DOWN for maintenance" + via + st, Status: st,
				Down: true, NoServer: prev > 0 && ch.Active+ch.Backup == 0})
		}
	}
	// Trackers inherit only a first maintenance.
	if cur&adminMaint != 0 {
		return out
	}
	for i := len(s.trackers) - 1; i >= 0; i-- {
		out = s.trackers[i].setAdmin(AdminInheritedMaint, out)
	}
	return out
}

// clrAdmin is srv_clr_admin_flag with srv_update_status's leaving of
// maintenance.
func (s *Server) clrAdmin(mode Admin, out []AdminChange) []AdminChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.Admin()
	if cur&mode == 0 {
		return out
	}
	next := cur &^ mode
	s.admin.Store(uint32(next))
	switch {
	case cur&adminMaint != 0 && next&adminMaint == 0:
		if s.Check.Enabled && !s.checkOff() {
			// Start OK, and let the next check decide.
			s.paused.Store(false)
			s.health.Store(int32(s.Check.Rise))
		}
		to := Up
		if t := s.Tracked; t != nil {
			switch t.State() {
			case Down, Maint:
				to = Down
			case Stopping:
				to = Stopping
			}
		}
		s.state.Store(int32(to))
		ch := AdminChange{Server: s, Up: to == Up, To: to}
		if to == Up {
			s.lastChange.Store(time.Now().Unix())
			s.moveLocked(Maint, Up)
		}
		word, ready := "UP", "READY"
		if to == Down {
			word = "DOWN"
		}
		if next&AdminForcedDrain != 0 {
			ready = "DRAIN"
		}
		ch.Text = s.label() + " is " + word + "/" + ready + " (leaving maintenance)"
		if mode == AdminForcedMaint {
			ch.Text = s.label() + " is " + word + "/" + ready + " (leaving forced maintenance)"
		}
		out = append(out, ch)
	case mode == AdminForcedMaint:
		out = append(out, AdminChange{Server: s, Text: s.label() + " is leaving forced maintenance but remains in maintenance" + s.via()})
	case mode == AdminInheritedMaint:
		out = append(out, AdminChange{Server: s, Text: s.label() + " remains in forced maintenance"})
	case mode == AdminResolveMaint:
		out = append(out, AdminChange{Server: s, Text: s.label() + " resolves again but remains in maintenance" + s.via(), StillMaint: true})
	}
	if next&adminMaint != 0 {
		return out
	}
	for i := len(s.trackers) - 1; i >= 0; i-- {
		out = s.trackers[i].clrAdmin(AdminInheritedMaint, out)
	}
	return out
}

// CheckStatus is a health check's status, HAProxy's HCHK_STATUS_*
// (include/haproxy/check-t.h).
type CheckStatus int32

// Check statuses.
const (
	CheckUnknown CheckStatus = iota
	CheckIni
	CheckStart
	CheckChecked
	CheckHana
	CheckSockErr
	CheckL4OK
	CheckL4Tout
	CheckL4Con
	CheckL6OK
	CheckL6Tout
	CheckL6Rsp
	CheckL7Tout
	CheckL7Rsp
	CheckL57Data
	CheckL7OKD
	CheckL7OKCD
	CheckL7Sts
	CheckProcErr
	CheckProcTout
	CheckProcOK
)

// checkStatuses are HAProxy's check_statuses: the description a
// report starts with, the short name and the result.
var checkStatuses = [...]struct {
	desc, name string
	result     CheckResult
}{
	CheckUnknown:  {"Unknown", "UNK", ResultUnknown},
	CheckIni:      {"Initializing", "INI", ResultUnknown},
	CheckStart:    {"", "", ResultUnknown},
	CheckChecked:  {"No status change", "CHECKED", ResultNeutral},
	CheckHana:     {"Health analyze", "HANA", ResultFailed},
	CheckSockErr:  {"Socket error", "SOCKERR", ResultFailed},
	CheckL4OK:     {"Layer4 check passed", "L4OK", ResultPassed},
	CheckL4Tout:   {"Layer4 timeout", "L4TOUT", ResultFailed},
	CheckL4Con:    {"Layer4 connection problem", "L4CON", ResultFailed},
	CheckL6OK:     {"Layer6 check passed", "L6OK", ResultPassed},
	CheckL6Tout:   {"Layer6 timeout", "L6TOUT", ResultFailed},
	CheckL6Rsp:    {"Layer6 invalid response", "L6RSP", ResultFailed},
	CheckL7Tout:   {"Layer7 timeout", "L7TOUT", ResultFailed},
	CheckL7Rsp:    {"Layer7 invalid response", "L7RSP", ResultFailed},
	CheckL57Data:  {"", "", ResultUnknown},
	CheckL7OKD:    {"Layer7 check passed", "L7OK", ResultPassed},
	CheckL7OKCD:   {"Layer7 check conditionally passed", "L7OKC", ResultCondPass},
	CheckL7Sts:    {"Layer7 wrong status", "L7STS", ResultFailed},
	CheckProcErr:  {"External check error", "PROCERR", ResultFailed},
	CheckProcTout: {"External check timeout", "PROCTOUT", ResultFailed},
	CheckProcOK:   {"External check passed", "PROCOK", ResultPassed},
}

func (c CheckStatus) String() string {
	if c >= 0 && int(c) < len(checkStatuses) {
		return checkStatuses[c].name
	}
	return "UNK"
}

// statusOf is the status of a check's report, from the description it
// starts with; a report of no HAProxy description is a socket error
// when it failed.
func statusOf(kind string, res checkResult) CheckStatus {
	for i, st := range checkStatuses {
		if st.desc != "" && st.desc == kind {
			return CheckStatus(i)
		}
	}
	switch res {
	case checkPassed:
		return CheckL4OK
	case checkCondPassed:
		return CheckL7OKCD
	}
	return CheckSockErr
}

// CheckResult is a health check's result, HAProxy's CHK_RES_*.
type CheckResult int32

// Check results.
const (
	ResultUnknown CheckResult = iota
	ResultNeutral
	ResultFailed
	ResultPassed
	ResultCondPass
)

// Check state flags, HAProxy's CHK_ST_*.
const (
	CheckInProgress = 0x01
	CheckConfigured = 0x02
	CheckEnabled    = 0x04
	CheckPaused     = 0x08
)

// CheckStatus is the status of the server's last health check
// (CheckIni before the first one).
func (s *Server) CheckStatus() CheckStatus { return CheckStatus(s.chkStatus.Load()) }

// CheckDesc is the info of the last check's report (HAProxy's
// check->desc, the stats' last_chk).
func (s *Server) CheckDesc() string {
	if d := s.chkDesc.Load(); d != nil {
		return *d
	}
	return ""
}

// setCheckDesc keeps the info of a report: what its `info: "..."` says.
func (s *Server) setCheckDesc(reason string) {
	d := ""
	if _, rest, ok := strings.Cut(reason, `info: "`); ok {
		if i := strings.LastIndexByte(rest, '"'); i >= 0 {
			d = rest[:i]
		}
	}
	s.chkDesc.Store(&d)
}

// CheckCode is the code of the last check's report, meaningful from
// CheckL57Data on (HAProxy's check->code).
func (s *Server) CheckCode() int { return int(s.chkCode.Load()) }

// CheckResult is the result of the last health check, ResultUnknown
// while one runs.
func (s *Server) CheckResult() CheckResult { return CheckResult(s.chkResult.Load()) }

// CheckHealth is the check's health counter: from 0 (down) to rise+fall-1
// (fully up); the server is up from rise on.
func (s *Server) CheckHealth() int { return int(s.health.Load()) }

// CheckState is the check's CHK_ST_* flags: 0 without a check, paused
// while the server is in maintenance (and, as with HAProxy, from a
// "disabled" server line even without a check, until it is enabled with
// its check).
func (s *Server) CheckState() int {
	st := 0
	if s.Check.Enabled {
		st = CheckConfigured | CheckEnabled
		if s.checkOff() {
			st = CheckConfigured
		}
	}
	if s.paused.Load() {
		st |= CheckPaused
	}
	if s.inProgress.Load() {
		st |= CheckInProgress
	}
	return st
}

// LastChange is when the server's state last changed (start, for a
// server that never changed).
func (s *Server) LastChange() time.Time { return time.Unix(s.lastChange.Load(), 0) }

// InSlowstart reports whether the server is ramping up after coming
// back (HAProxy's SRV_ST_STARTING).
func (s *Server) InSlowstart() bool {
	_, _, ok := s.starting(time.Now().Unix())
	return ok && s.State() == Up
}

// Drained reports a server in drain mode.
func (s *Server) Drained() bool { return s.Admin()&AdminForcedDrain != 0 }

// SetDrain puts the server in drain mode, out of a forced maintenance,
// as the stats page's "drain" action and the CLI's "set server ... state
// drain" do (HAProxy's srv_adm_set_drain).
func (s *Server) SetDrain() []AdminChange {
	s.mu.Lock()
	cur := s.Admin()
	if cur&AdminForcedDrain != 0 {
		s.mu.Unlock()
		return s.clrAdmin(AdminForcedMaint, nil)
	}
	s.setDrainLocked(true)
	if cur&adminMaint != 0 {
		// Reported once the maintenance ends, or not at all.
		s.mu.Unlock()
		out := s.clrAdmin(AdminForcedMaint, nil)
		if cur&adminMaint == AdminForcedMaint {
			out = append(out, AdminChange{Server: s, Text: s.label() + " remains in forced drain mode"})
		}
		return out
	}
	defer s.mu.Unlock()
	why := ""
	if s.admCause != "" {
		why = " (" + s.admCause + ")"
		s.admCause = ""
	}
	s.lastChange.Store(time.Now().Unix())
	b := s.Backend
	b.mu.Lock()
	act, bck := b.usableLocked()
	st := ". " + strconv.Itoa(act) + " active and " + strconv.Itoa(bck) + " backup servers online."
	if bck > 0 && act == 0 {
		st += " Running on backup."
	}
	st += " 0 sessions requeued, " + strconv.Itoa(len(s.queue)) + " total in queue"
	b.mu.Unlock()
	wasUsable := s.State() == Up && s.weight() > 0
	return []AdminChange{{Server: s, Text: s.label() + " enters drain state" + why + st, Status: st,
		NoServer: wasUsable && act+bck == 0}}
}

// ForceDrain sets drain mode alone, leaving any maintenance in place
// (the stats page's older "stop" action: SRV_ADMF_FDRAIN), its report
// naming cause.
func (s *Server) ForceDrain(cause string) []AdminChange {
	s.mu.Lock()
	cur := s.Admin()
	if cur&AdminForcedDrain != 0 {
		s.mu.Unlock()
		return nil
	}
	if cur&adminMaint != 0 {
		s.setDrainLocked(true)
		s.mu.Unlock()
		return nil
	}
	s.admCause = cause
	s.mu.Unlock()
	return s.SetDrain()
}

// ClearDrain ends drain mode, as the "ready" actions do: the server
// takes traffic again, unless it is in maintenance, which keeps it quiet.
func (s *Server) ClearDrain() []AdminChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.Drained() {
		return nil
	}
	s.setDrainLocked(false)
	if s.inMaint() {
		return nil
	}
	s.lastChange.Store(time.Now().Unix())
	word := "UP"
	if s.State() == Down {
		word = "DOWN"
	}
	return []AdminChange{{Server: s, Text: s.label() + " is " + word + " (leaving forced drain)", Up: word == "UP", To: s.State()}}
}

// usableLocked counts the usable active and backup servers; b.mu must
// be held.
func (b *Backend) usableLocked() (act, bck int) {
	for _, x := range b.Servers {
		if x.usable() {
			if x.Backup {
				bck++
			} else {
				act++
			}
		}
	}
	return act, bck
}

// setDrainLocked sets or clears drain mode, and takes the server out of
// round robin's rotation or puts it back.
func (s *Server) setDrainLocked(on bool) {
	b := s.Backend
	b.mu.Lock()
	was := s.usable()
	if on {
		s.admin.Store(uint32(s.Admin() | AdminForcedDrain))
	} else {
		s.admin.Store(uint32(s.Admin() &^ AdminForcedDrain))
	}
	b.fwrrChangeLocked(s, was, s.usable())
	b.mu.Unlock()
}
