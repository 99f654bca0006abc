package backend

// SavedState is a server's state as a server-state file saved it, to
// restore at start (HAProxy's srv_state_srv_update).
type SavedState struct {
	// Op is the operational state (SRV_ST_*: 0 stopped, 1 starting, 2
	// running, 3 stopping) and Health the check's health.
	Op, Health int
	// Maint is whether the server ends in maintenance; WasDisabled is the
	// configuration's "disabled"; Drain is the forced drain.
	Maint, WasDisabled, Drain bool
	// UWeight is the weight in force, kept when KeepUWeight (the
	// configured weight did not change).
	UWeight     int
	KeepUWeight bool
	// LastChange is the Unix second of the last change of state.
	LastChange int64
	// CheckStatus and CheckResult are the last check's; CheckOff and
	// AgentOff say the CLI had disabled the check or the agent.
	CheckStatus, CheckResult int
	CheckOff, AgentOff       bool
}

// RestoreState applies a saved state before the server runs.
func (s *Server) RestoreState(st SavedState) {
	rise, fall := s.Check.Rise, s.Check.Fall
	h, to := st.Health, Up
	switch st.Op {
	case 0:
		h, to = 0, Down
	case 1:
		if rise == 1 {
			h = rise + fall - 1
		} else if h < 1 || h >= rise {
			h = rise - 1
		}
	case 3:
		if fall == 1 {
			h, to = 0, Down
		} else {
			if h < rise || h > rise+fall-2 {
				h = rise
			}
			to = Stopping
		}
	default:
		h = rise + fall - 1
	}
	admin := s.Admin() &^ (AdminForcedMaint | AdminConfigMaint | AdminForcedDrain)
	switch {
	case st.Maint:
		admin |= AdminForcedMaint
		if st.WasDisabled {
			admin |= AdminConfigMaint
		}
		h, to = 0, Maint
	case st.Drain:
		admin |= AdminForcedDrain
	}
	s.admin.Store(uint32(admin))
	// Maintenance pauses the check, and even the absent one of a "disabled"
	// line.
	s.paused.Store(st.Maint && (st.WasDisabled || s.Check.Enabled))
	s.health.Store(int32(h))
	s.state.Store(int32(to))
	if st.KeepUWeight {
		s.curWeight.Store(int32(st.UWeight))
	}
	s.lastChange.Store(st.LastChange)
	s.chkStatus.Store(int32(st.CheckStatus))
	s.chkResult.Store(int32(st.CheckResult))
	if st.CheckOff && s.Check.Enabled {
		s.SetCheckRunning(false)
	}
	if st.AgentOff && s.Agent.Enabled {
		s.SetAgentRunning(false)
	}
	if b := s.Backend; b != nil {
		b.mu.Lock()
		b.fwrrInit, b.dirty = false, true
		b.mu.Unlock()
	}
}
