package runtime

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
)

// The server-state file (src/server_state.c): what "show servers state"
// wrote before a reload, which backends with load-server-state-from-file
// read their servers' states from at start.

// stateLine is a server line of the file: its fields from be_id on.
type stateLine []string

// Field positions of a version 1 line.
const (
	stBeID = iota
	stBeName
	stSrvID
	stSrvName
	stAddr
	stOpState
	stAdmin
	stUWeight
	stIWeight
	stLastChange
	stCheckStatus
	stCheckResult
	stCheckHealth
	stCheckState
	stAgentState
	stBeForcedID
	stSrvForcedID
	stFQDN
	stPort
	stSrvRecord
	stMinFields = 20
	stMaxFields = 25
)

// stateFiles holds the lines that apply to each backend, by server
// name, and the warnings reading them gave: the global file's, then
// each backend's before and after its states are applied.
type stateFiles struct {
	byBackend     map[*parser.Proxy]map[string]stateLine
	warnings      []string
	before, after map[*parser.Proxy][]string
}

func stateFilePath(g *parser.Global, name string) string {
	if strings.HasPrefix(name, "/") || g.ServerStateBase == "" {
		return name
	}
	if strings.HasSuffix(g.ServerStateBase, "/") {
		return g.ServerStateBase + name
	}
	return g.ServerStateBase + "/" + name
}

// readStateFile reads a file's version and lines; px, for a local file,
// checks each line's backend as srv_state_parse_and_store_line does.
func readStateFile(path string, px *parser.Proxy, pxID int, warn func(string, ...any)) (lines map[string]stateLine, openErr error, vsnOK, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err, false, false
	}
	defer f.Close()
	r := bufio.NewReader(f)
	// The first line is the version, alone: 1.
	first, err := r.ReadString('\n')
	if v, n := leadingDigits(first); err != nil || n == 0 || first[n:] != "\n" || v != 1 {
		return nil, nil, false, false
	}
	lines = map[string]stateLine{}
	for num := 1; ; num++ {
		l, err := r.ReadString('\n')
		if l == "" && err != nil {
			break
		}
		if !strings.HasSuffix(l, "\n") {
			return lines, nil, true, false
		}
		t := strings.TrimLeft(l, " \t")
		if t == "\n" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.FieldsFunc(strings.TrimSuffix(t, "\n"), func(r rune) bool { return r == ' ' || r == '\t' })
		if len(fields) > stMaxFields {
			fields = fields[:stMaxFields]
		}
		if len(fields) < stMinFields {
			return lines, nil, true, false
		}
		beName := fields[stBeName]
		if px != nil {
			id, _ := leadingDigits(fields[stBeID])
			byID, byName := int(id) == pxID, fields[stBeName] == px.Name
			switch {
			case !byID && !byName:
				continue
			case !byID:
				warn("Proxy '%s': backend ID mismatch: from server state file: '%s', from running config '%d'", px.Name, fields[stBeID], pxID)
			case !byName:
				warn("Proxy '%s': backend name mismatch: from server state file: '%s', from running config '%s'", px.Name, fields[stBeName], px.Name)
				if forced, _ := leadingDigits(fields[stBeForcedID]); forced&1 == 0 {
					continue
				}
			}
			beName = px.Name
		}
		key := beName + " " + fields[stSrvName]
		if _, dup := lines[key]; !dup {
			lines[key] = fields
		}
	}
	return lines, nil, true, true
}

// loadStateFiles reads the files the backends load, as
// apply_server_state does, with its warnings.
func loadStateFiles(cfg *parser.Config, ids map[*parser.Proxy]int) *stateFiles {
	sf := &stateFiles{byBackend: map[*parser.Proxy]map[string]stateLine{},
		before: map[*parser.Proxy][]string{}, after: map[*parser.Proxy][]string{}}
	warn := func(format string, a ...any) { sf.warnings = append(sf.warnings, fmt.Sprintf(format, a...)) }
	g := &cfg.Global
	var global map[string]stateLine
	if g.ServerStateFile != "" {
		path := stateFilePath(g, g.ServerStateFile)
		lines, err, vsn, ok := readStateFile(path, nil, 0, warn)
		switch {
		case err != nil:
			warn("config: Can't open global server state file '%s': %s", path, parser.ErrnoText(err))
		case !vsn:
			warn("config: Can't get version of the global server state file '%s'.", path)
		case !ok:
			warn("config: corrupted global server state file '%s' at line %d.", path, len(lines)+1)
		default:
			global = lines
		}
	}
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapBE == 0 || p.Cap&parser.CapDef != 0 || len(p.Servers) == 0 {
			continue
		}
		switch p.ServerStateLoad {
		case "global":
			if global != nil {
				sf.byBackend[p] = prefixed(global, p.Name)
			}
		case "local":
			warn := func(format string, a ...any) { sf.before[p] = append(sf.before[p], fmt.Sprintf(format, a...)) }
			name := p.ServerStateFileName
			if name == "" {
				name = p.Name
			}
			path := stateFilePath(g, name)
			lines, err, vsn, ok := readStateFile(path, p, ids[p], warn)
			switch {
			case err != nil:
				warn("Proxy '%s': Can't open server state file '%s': %s.", p.Name, path, parser.ErrnoText(err))
				continue
			case !vsn:
				warn("Proxy '%s': Can't get version of the server state file '%s'.", p.Name, path)
				continue
			case !ok:
				warn("Proxy '%s': corrupted server state file '%s' at line %d.", p.Name, path, len(lines)+1)
				continue
			}
			own := prefixed(lines, p.Name)
			sf.byBackend[p] = own
			for _, l := range lines {
				if !hasServer(p, l[stSrvName]) {
					sf.after[p] = append(sf.after[p], fmt.Sprintf("Proxy '%s': can't find server '%s' in backend '%s'", p.Name, l[stSrvName], p.Name))
				}
			}
		}
	}
	return sf
}

func prefixed(lines map[string]stateLine, be string) map[string]stateLine {
	out := map[string]stateLine{}
	for k, l := range lines {
		if name, ok := strings.CutPrefix(k, be+" "); ok {
			out[name] = l
		}
	}
	return out
}

func hasServer(p *parser.Proxy, name string) bool {
	for _, s := range p.Servers {
		if s.Name == name {
			return true
		}
	}
	return false
}

// savedState is a line's values once validated (srv_state_srv_update).
type savedState struct {
	op, admin, uweight, iweight    int
	lastChange                     int64
	checkStatus, checkResult       int
	health, checkState, agentState int
	addr                           string
	port                           int
	hasPort                        bool
}

// parseState validates a line; msg lists what is wrong, as HAProxy
// appends it (", invalid srv_op_state value 'x'...").
func parseState(l stateLine) (st savedState, msg string) {
	var b strings.Builder
	num := func(i int, name string, valid func(int64) bool) int64 {
		v, err := strconv.ParseInt(l[i], 10, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			// strtol reads the leading digits.
			n, used := leadingDigits(l[i])
			if used == 0 {
				fmt.Fprintf(&b, ", invalid %s value '%s'", name, l[i])
				return 0
			}
			v = n
		}
		if valid != nil && !valid(v) {
			fmt.Fprintf(&b, ", invalid %s value '%s'", name, l[i])
		}
		return v
	}
	st.op = int(num(stOpState, "srv_op_state", func(v int64) bool { return v >= 0 && v <= 3 }))
	admin := num(stAdmin, "srv_admin_state", nil) &^ (0x10 | 0x02 | 0x40 | 0x20)
	switch admin {
	case 0, 0x01, 0x04, 0x05, 0x0c, 0x08:
	default:
		if !strings.Contains(b.String(), "srv_admin_state") {
			fmt.Fprintf(&b, ", invalid srv_admin_state value '%s'", l[stAdmin])
		}
	}
	st.admin = int(admin)
	st.uweight = int(num(stUWeight, "srv_uweight", func(v int64) bool { return v >= 0 && v <= 256 }))
	st.iweight = int(num(stIWeight, "srv_iweight", func(v int64) bool { return v >= 0 && v <= 256 }))
	st.lastChange = num(stLastChange, "srv_last_time_change", nil)
	st.checkStatus = int(num(stCheckStatus, "srv_check_status", func(v int64) bool { return v >= 0 && v < 24 }))
	st.checkResult = int(num(stCheckResult, "srv_check_result", func(v int64) bool { return v >= 0 && v <= 4 }))
	st.health = int(num(stCheckHealth, "srv_check_health", nil))
	st.checkState = int(num(stCheckState, "srv_check_state", func(v int64) bool { return v&^0x1f == 0 }))
	st.agentState = int(num(stAgentState, "srv_agent_state", func(v int64) bool { return v&^0x1f == 0 }))
	num(stBeForcedID, "bk_f_forced_id", func(v int64) bool { return v == 0 || v == 1 })
	num(stSrvForcedID, "srv_f_forced_id", func(v int64) bool { return v == 0 || v == 1 })
	if p := l[stPort]; p != "" {
		n, _ := leadingDigits(p)
		if n > 65535 {
			fmt.Fprintf(&b, ", invalid srv_port value '%s'", p)
		} else {
			st.port, st.hasPort = int(n), true
		}
	}
	if l[stAddr] != "-" {
		st.addr = l[stAddr]
	}
	return st, b.String()
}

func leadingDigits(s string) (int64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int64(s[i]-'0')
		i++
	}
	if i == start {
		return 0, 0
	}
	if neg {
		n = -n
	}
	return n, i
}

// Operational states of the file (SRV_ST_*) and admin flags.
const (
	opStopped  = 0
	opStarting = 1
	opRunning  = 2
	opStopping = 3
)

// serverStateDiags are the warnings HAProxy gives while it applies the
// server-state files at start: the files' own, then, backend by backend,
// each server's state changes with the counts of usable servers after
// each one, and the lines it could not apply.
func serverStateDiags(cfg *parser.Config) []string {
	sf := loadStateFiles(cfg, proxyIDs(cfg))
	out := sf.warnings
	for _, p := range cfg.Proxies {
		out = append(out, sf.before[p]...)
		lines := sf.byBackend[p]
		if len(lines) == 0 {
			continue
		}
		type sim struct {
			s      *parser.Server
			usable bool
		}
		var sims []*sim
		for _, s := range p.Servers {
			sims = append(sims, &sim{s: s, usable: !s.Settings.Disabled && s.Settings.Weight > 0})
		}
		counts := func() (act, bck int) {
			for _, x := range sims {
				switch {
				case !x.usable:
				case x.s.Settings.Backup:
					bck++
				default:
					act++
				}
			}
			return
		}
		for _, x := range sims {
			l, ok := lines[x.s.Name]
			if !ok {
				continue
			}
			st, msg := parseState(l)
			label := "Server"
			if x.s.Settings.Backup {
				label = "Backup Server"
			}
			if msg != "" {
				out = append(out, fmt.Sprintf("server-state application failed for server '%s/%s'%s", p.Name, x.s.Name, msg))
				continue
			}
			maint := x.s.Settings.Disabled
			down := st.op == opStopped || st.op == opStopping && x.s.Settings.Fall == 1
			switch {
			case maint:
			case down:
				x.usable = false
				act, bck := counts()
				out = append(out, fmt.Sprintf("%s %s/%s is DOWN, changed from server-state after a reload. %d active and %d backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.", label, p.Name, x.s.Name, act, bck))
			case st.op == opStopping:
				x.usable = false
				act, bck := counts()
				out = append(out, fmt.Sprintf("%s %s/%s is stopping, changed from server-state after a reload. %d active and %d backup servers online. 0 sessions requeued, 0 total in queue.", label, p.Name, x.s.Name, act, bck))
			}
			if nowMaint := stateMaint(st.admin, x.s.Settings.Disabled); nowMaint {
				x.usable = false
			} else if maint {
				// A server the file had enabled at run time leaves the
				// configuration's maintenance.
				x.usable = !down && st.op != opStopping && x.s.Settings.Weight > 0
			}
			if !stateMaint(st.admin, x.s.Settings.Disabled) && st.admin&int(backend.AdminForcedDrain) != 0 && (st.iweight > 0 || x.s.Settings.Weight == 0) {
				x.usable = false
				out = append(out, fmt.Sprintf("%s %s/%s remains in forced drain mode.", label, p.Name, x.s.Name))
			}
			if st.iweight == x.s.Settings.Weight && st.uweight == 0 {
				x.usable = false
			}
		}
		out = append(out, sf.after[p]...)
	}
	return out
}

// stateMaint is whether a server ends up in maintenance: a change of the
// configuration's "disabled" wins, else the file's forced maintenance.
func stateMaint(fileAdmin int, disabled bool) bool {
	if (fileAdmin&int(backend.AdminConfigMaint) != 0) != disabled {
		return disabled
	}
	return fileAdmin&int(backend.AdminForcedMaint) != 0
}

// applyServerStates sets the states the files saved on the servers of
// a backend, before anything runs.
func applyServerStates(lines map[string]stateLine, servers []*backend.Server, settings func(*backend.Server) *parser.ServerSettings) {
	now := time.Now().Unix()
	for _, srv := range servers {
		l, ok := lines[srv.Name]
		if !ok {
			continue
		}
		st, msg := parseState(l)
		if msg != "" {
			continue
		}
		ps := settings(srv)
		srv.RestoreState(backend.SavedState{
			Op: st.op, Maint: stateMaint(st.admin, ps.Disabled), WasDisabled: ps.Disabled,
			Drain:   !stateMaint(st.admin, ps.Disabled) && st.admin&int(backend.AdminForcedDrain) != 0 && (st.iweight > 0 || ps.Weight == 0),
			UWeight: st.uweight, KeepUWeight: st.iweight == ps.Weight,
			LastChange:  now - st.lastChange,
			CheckStatus: st.checkStatus, CheckResult: st.checkResult, Health: st.health,
			CheckOff: st.checkState&0x2 != 0 && st.checkState&0x4 == 0,
			AgentOff: st.agentState&0x2 != 0 && st.agentState&0x4 == 0,
		})
	}
}
