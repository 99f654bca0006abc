package backend

import (
	"strconv"
	"sync/atomic"
	"time"
)

// Observe is the server's "observe" mode: which outcomes of real traffic
// count as errors (HAProxy's health analysis, HANA).
type Observe uint8

const (
	ObserveNone Observe = iota
	ObserveLayer4
	ObserveLayer7
)

// OnError is the server's "on-error" action once ErrorLimit consecutive
// errors were observed.
type OnError uint8

const (
	// OnErrorFailCheck (HAProxy's default) counts as a failed check.
	OnErrorFailCheck OnError = iota
	// OnErrorFastInter only brings the next check forward.
	OnErrorFastInter
	// OnErrorSuddenDeath leaves one failed check before the server is
	// marked down.
	OnErrorSuddenDeath
	// OnErrorMarkDown marks the server down.
	OnErrorMarkDown
)

// Hana is an outcome of traffic to a server (HANA_STATUS_*).
type Hana uint8

const (
	HanaL4OK Hana = iota + 1
	HanaL4Err
	HanaHTTPOK
	HanaHTTPSts
	HanaHTTPHdrRsp
	HanaHTTPRsp
	HanaHTTPReadError
	HanaHTTPReadTimeout
	HanaHTTPBrokenPipe
)

// hanaStatuses are analyze_statuses: the description, and per observe
// mode (layer4, layer7) 1 for an error, 2 for a success, 0 to ignore.
var hanaStatuses = [...]struct {
	desc string
	lr   [2]uint8
}{
	HanaL4OK:            {"L4 successful connection", [2]uint8{2, 0}},
	HanaL4Err:           {"L4 unsuccessful connection", [2]uint8{1, 1}},
	HanaHTTPOK:          {"Correct http response", [2]uint8{0, 2}},
	HanaHTTPSts:         {"Wrong http response", [2]uint8{0, 1}},
	HanaHTTPHdrRsp:      {"Invalid http response (headers)", [2]uint8{0, 1}},
	HanaHTTPRsp:         {"Invalid http response", [2]uint8{0, 1}},
	HanaHTTPReadError:   {"Read error (http)", [2]uint8{0, 1}},
	HanaHTTPReadTimeout: {"Read timeout (http)", [2]uint8{0, 1}},
	HanaHTTPBrokenPipe:  {"Close from server (http)", [2]uint8{0, 1}},
}

// HanaStatus is the outcome of an HTTP response status for the health
// analysis: 501 and 505 are the client's doing.
func HanaStatus(status int) Hana {
	if status >= 100 && (status < 500 || status == 501 || status == 505) {
		return HanaHTTPOK
	}
	return HanaHTTPSts
}

// hana is the server's health analysis state.
type hana struct {
	consecutive atomic.Int32
	fails       atomic.Uint64
	// kick brings the check loop's next check forward to the delay sent.
	kick chan time.Duration
}

// HanaFails is how many times the errors observed reached the limit
// (the stats' hanafail).
func (s *Server) HanaFails() uint64 { return s.hana.fails.Load() }

// CheckFails is how many checks failed while the server had health left
// (the stats' chkfail).
func (s *Server) CheckFails() uint64 { return s.chkFails.Load() }

// HealthAdjust is HAProxy's health_adjust: an outcome of traffic to the
// server, counted under its "observe" mode; ErrorLimit consecutive errors
// trigger its "on-error" action.
func (s *Server) HealthAdjust(st Hana) {
	if s.Observe == ObserveNone || int(st) >= len(hanaStatuses) {
		return
	}
	switch hanaStatuses[st].lr[s.Observe-1] {
	case 1:
	case 2:
		s.hana.consecutive.Store(0)
		return
	default:
		return
	}
	n := s.hana.consecutive.Add(1)
	limit := s.ErrorLimit
	if limit <= 0 {
		limit = 10
	}
	if int(n) < limit {
		return
	}
	info := "Detected " + strconv.Itoa(int(n)) + " consecutive errors, last one was: " + hanaStatuses[st].desc
	s.mu.Lock()
	switch s.OnError {
	case OnErrorSuddenDeath:
		if h := s.CheckHealth(); h > s.Check.Rise {
			s.health.Store(int32(s.Check.Rise + 1))
		}
		s.hanaFailLocked(info)
	case OnErrorFailCheck:
		s.hanaFailLocked(info)
	case OnErrorMarkDown:
		s.health.Store(int32(s.Check.Rise))
		s.hanaFailLocked(info)
	}
	s.mu.Unlock()
	s.hana.consecutive.Store(0)
	s.hana.fails.Add(1)
	if d := s.Check.FastInter; d > 0 && s.hana.kick != nil {
		select {
		case s.hana.kick <- d:
		default:
		}
	}
}

// hanaFailLocked is set_server_check_status with HCHK_STATUS_HANA then
// check_notify_failure: a failed check without a duration, for a server
// whose checks run.
func (s *Server) hanaFailLocked(info string) {
	if !s.Check.Enabled || s.inMaint() {
		return
	}
	prev := s.CheckStatus()
	s.chkStatus.Store(int32(CheckHana))
	s.chkResult.Store(int32(ResultFailed))
	reason := checkStatuses[CheckHana].desc + `, info: "` + info + `"`
	s.setCheckDesc(reason)
	health := s.CheckHealth()
	report := false
	if health > 0 {
		s.chkFails.Add(1)
		report = true
		if health--; health < s.Check.Rise {
			health = 0
		}
		s.health.Store(int32(health))
	}
	if b := s.Backend; b.LogHealthChecks && b.OnCheck != nil && (report || prev != CheckHana) {
		b.OnCheck(s, s.checkReport(false, false, reason, health))
	}
	if health == 0 {
		if st := s.State(); st == Up || st == Stopping {
			s.setStateLocked(Down, reason+".")
		}
	}
}
