package stats

import (
	"github.com/gohap/gohap/parser"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
)

// command is one CLI keyword: its words, its help line (none for help,
// prompt and quit, which HAProxy always lists last) and what it answers.
type command struct {
	words []string
	usage string
	// run writes the answer; it returns true to close the connection.
	run func(ss *session, args []string) bool
	// experimental commands need "experimental-mode on" (ACCESS_EXPERIMENTAL).
	experimental bool
}

// commands are the keywords gohap serves, with HAProxy 2.6's help lines
// (set in init: help refers to the table).
var commands []command

func init() {
	commands = []command{
		{words: []string{"help"}, run: (*session).help},
		{words: []string{"prompt"}, run: func(ss *session, _ []string) bool { ss.prompt = !ss.prompt; return false }},
		{words: []string{"quit"}, run: func(*session, []string) bool { return true }},
		{words: []string{"show", "cli", "level"}, usage: "show cli level                          : display the level of the current CLI session", run: (*session).showLevel},
		{words: []string{"_getsocks"}, run: (*session).getSocks},
		{words: []string{"show", "cli", "sockets"}, usage: "show cli sockets                        : dump list of cli sockets", run: (*session).showSockets},
		{words: []string{"operator"}, usage: "operator                                : lower the level of the current CLI session to operator", run: (*session).setLevel},
		{words: []string{"user"}, usage: "user                                    : lower the level of the current CLI session to user", run: (*session).setLevel},
		{words: []string{"show", "servers", "state"}, usage: "show servers state [<backend>]          : dump volatile server information (all or for a single backend)", run: (*session).showServersState},
		{words: []string{"show", "info"}, usage: "show info [desc|json|typed|float]*      : report information about the running process", run: (*session).showInfo},
		{words: []string{"show", "stat"}, usage: "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server", run: (*session).showStat},
		{words: []string{"show", "schema", "json"}, usage: "show schema json                        : report schema used for stats", run: (*session).showSchema},
		{words: []string{"show", "resolvers"}, usage: "show resolvers [id]                     : dumps counters from all resolvers section and associated name servers", run: (*session).showResolvers},
		{words: []string{"show", "cache"}, usage: "show cache                              : show cache status", run: (*session).showCache},
		{words: []string{"show", "backend"}, usage: "show backend                            : list backends in the current running config", run: (*session).showBackend},
		{words: []string{"clear", "table"}, usage: "clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)", run: (*session).table},
		{words: []string{"set", "table"}, usage: "set table <table> key <k> [data.* <v>]* : update or create a table entry's data", run: (*session).table},
		{words: []string{"show", "table"}, usage: "show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)", run: (*session).table},
		{words: []string{"disable", "server"}, usage: "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)", run: (*session).setMaint},
		{words: []string{"enable", "server"}, usage: "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)", run: (*session).setMaint},
	}
	commands = append(commands, mapCommands()...)
	commands = append(commands, varCommands()...)
	commands = append(commands, serverCommands()...)
	commands = append(commands, dynServerCommands()...)
	commands = append(commands, errorCommands()...)
	commands = append(commands, eventCommands()...)
	commands = append(commands, sslCommands()...)
	commands = append(commands, sessCommands()...)
}

// permissionDenied is cli_permission_denied_msg.
const permissionDenied = "Permission denied\n"

// run executes one command line; it returns true when the session ends.
func (ss *session) run(line string) bool {
	args := splitArgs(line)
	cmd := findCommand(args)
	if cmd == nil {
		ss.out.WriteString(usage(ss.visible(), args))
		return false
	}
	if cmd.experimental && !ss.experimental {
		ss.out.WriteString("This command is restricted to experimental mode only.\n")
		return false
	}
	return cmd.run(ss, args)
}

// arg returns args[i], or "" as HAProxy's padded argument array does.
func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

// findCommand is cli_find_kw: the first keyword whose words all match.
func findCommand(args []string) *command {
	for i := range commands {
		c := &commands[i]
		found := true
		for j, w := range c.words {
			if arg(args, j) != w {
				found = false
				break
			}
		}
		if found {
			return c
		}
	}
	return nil
}

// prefixWords is CLI_PREFIX_KW_NB, maxMatches CLI_MAX_MATCHES.
const (
	prefixWords = 5
	maxMatches  = 5
)

// usage is cli_gen_usage_msg: the help text for "help [words]", or the
// answer to an unknown command, with the closest commands when some
// words match.
func usage(commands []command, args []string) string {
	ishelp := false
	if arg(args, 0) == "help" {
		args = args[1:]
		ishelp = true
	}
	// The number of leading words some command matches exactly.
	length := 0
	for _, c := range commands {
		for idx := 0; idx < prefixWords && idx < len(c.words); idx++ {
			if arg(args, idx) == "" || c.words[idx] != args[idx] {
				break
			}
			length = max(length, idx+1)
		}
	}
	var b strings.Builder
	switch {
	case ishelp:
		b.WriteString("The following commands are valid at this level:\n")
	case length == 0 && arg(args, 0) == "":
		b.WriteString("Unknown command. Please enter one of the following commands only:\n")
	default:
		b.WriteString("Unknown command, but maybe one of the following ones is a better match:\n")
	}
	type match struct {
		c    *command
		dist int
	}
	var matches [maxMatches]match
	for i := range matches {
		matches[i].dist = math.MaxInt
	}
	prefixOK := func(c *command) (int, bool) {
		idx := 0
		for ; idx < length; idx++ {
			if idx >= len(c.words) || arg(args, idx) == "" || c.words[idx] != args[idx] {
				break
			}
		}
		return idx, idx == length
	}
	if arg(args, length) != "" {
		for i := range commands {
			c := &commands[i]
			idx, ok := prefixOK(c)
			if c.usage == "" || !ok || arg(args, idx) == "" {
				continue
			}
			var wsig, lsig [1024]uint8
			totlen := 0
			for k := idx; k < prefixWords && arg(args, k) != ""; k++ {
				parser.UpdateFingerprint(&wsig, args[k])
				totlen += len(args[k])
			}
			for k := idx; k < prefixWords && k < len(c.words); k++ {
				parser.UpdateFingerprint(&lsig, c.words[k])
				totlen += len(c.words[k])
			}
			dist := parser.FingerprintDistance(&wsig, &lsig)
			if dist < 5*totlen/2 && dist < matches[maxMatches-1].dist {
				swp := match{c, dist}
				matches[maxMatches-1] = swp
				for k := maxMatches - 2; k >= 0; k-- {
					if matches[k+1].dist >= matches[k].dist {
						break
					}
					matches[k+1] = matches[k]
					matches[k] = swp
				}
			}
		}
	}
	var entries []*command
	if matches[0].c != nil {
		for _, m := range matches {
			if m.c == nil || m.dist > 5*matches[0].dist/2 {
				break
			}
			entries = append(entries, m.c)
		}
	} else {
		for i := range commands {
			c := &commands[i]
			if _, ok := prefixOK(c); ok && c.usage != "" {
				entries = append(entries, c)
			}
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].usage < entries[j].usage })
	for _, c := range entries {
		b.WriteString("  " + c.usage + "\n")
	}
	b.WriteString("  help [<command>]                        : list matching or all commands\n" +
		"  prompt                                  : toggle interactive mode with prompt\n" +
		"  quit                                    : disconnect\n")
	return b.String()
}

// visible are the commands the session may list: experimental ones only
// in experimental mode.
func (ss *session) visible() []command {
	if ss.experimental {
		return commands
	}
	out := make([]command, 0, len(commands))
	for _, c := range commands {
		if !c.experimental {
			out = append(out, c)
		}
	}
	return out
}

func (ss *session) help(args []string) bool {
	ss.out.WriteString(usage(ss.visible(), args))
	return false
}

func (ss *session) showLevel([]string) bool {
	ss.out.WriteString(ss.level.String() + "\n")
	return false
}

// showSockets is "show cli sockets": every stats socket with its level,
// as HAProxy names addresses (unix@, abns@, ipv4@, ipv6@).
func (ss *session) showSockets([]string) bool {
	ss.out.WriteString("# socket lvl processes\n")
	for _, l := range ss.srv.lns {
		ss.out.WriteString(sockName(l.ln.Addr()) + " " + l.level.String() + " all\n")
	}
	return false
}

// sockName writes a listening address as HAProxy's CLI shows it.
func sockName(a net.Addr) string {
	switch a := a.(type) {
	case *net.UnixAddr:
		if n, ok := strings.CutPrefix(a.Name, "@"); ok {
			return "abns@" + n
		}
		return "unix@" + a.Name
	case *net.TCPAddr:
		if a.IP.To4() != nil {
			return "ipv4@" + a.IP.String() + ":" + strconv.Itoa(a.Port)
		}
		return "ipv6@[" + a.IP.String() + "]:" + strconv.Itoa(a.Port)
	}
	return "unknown"
}

// setLevel is "operator" and "user": a session may only lower its level.
func (ss *session) setLevel(args []string) bool {
	to := LevelUser
	if args[0] == "operator" {
		to = LevelOperator
	}
	if ss.level < to {
		ss.out.WriteString(permissionDenied)
		return false
	}
	ss.level = to
	ss.experimental, ss.expert = false, false
	return false
}

// stateFileVersion and stateFields are SRV_STATE_FILE_VERSION and
// SRV_STATE_FILE_FIELD_NAMES.
const (
	stateFileVersion = "1"
	stateFields      = "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port"
)

// findBackend is proxy_be_by_name: a name, or "#id" read as atoi reads.
// backendArg finds the backend a command names, answering HAProxy's
// "No such backend." when there is none.
func (ss *session) backendArg(name string) *Backend {
	be := findBackend(ss.srv.src.Backends(), name)
	if be == nil {
		ss.out.WriteString("No such backend.\n")
	}
	return be
}

func findBackend(bes []Backend, name string) *Backend {
	if id, ok := strings.CutPrefix(name, "#"); ok {
		n := atoi(id)
		for i := range bes {
			if bes[i].ID == n {
				return &bes[i]
			}
		}
		return nil
	}
	for i := range bes {
		if bes[i].Name == name {
			return &bes[i]
		}
	}
	return nil
}

// atoi reads as C's atoi: leading blanks, a sign, then digits.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > math.MaxInt32 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}

// showServersState is "show servers state [<backend>]".
func (ss *session) showServersState(args []string) bool {
	bes := ss.srv.src.Backends()
	if name := arg(args, 3); name != "" {
		be := findBackend(bes, name)
		if be == nil {
			ss.out.WriteString("Can't find backend.\n")
			return false
		}
		bes = []Backend{*be}
	}
	for _, be := range bes {
		if be.Unknown != "" {
			ss.out.WriteString(be.Unknown)
			return false
		}
	}
	w := ss.out
	w.WriteString(stateFileVersion + "\n# " + stateFields + "\n")
	num := func(n int) { w.WriteString(strconv.Itoa(n)) }
	sp := func() { w.WriteByte(' ') }
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	for _, be := range bes {
		for _, s := range be.Servers {
			for i, v := range []any{be.ID, be.Name, s.ID, s.Name, s.Addr, s.OpState, s.AdminState, s.UWeight, s.IWeight,
				s.SinceChange, s.CheckStatus, s.CheckResult, s.CheckHealth, s.CheckState, s.AgentState,
				b2i(be.ForcedID), b2i(s.ForcedID), s.FQDN, s.Port, s.SRVRecord, s.UseSSL, s.CheckPort,
				s.CheckAddr, s.AgentAddr, s.AgentPort} {
				if i > 0 {
					sp()
				}
				switch x := v.(type) {
				case int:
					num(x)
				case int64:
					w.WriteString(strconv.FormatInt(x, 10))
				case string:
					w.WriteString(x)
				}
			}
			w.WriteByte('\n')
		}
	}
	return false
}

// showBackend is "show backend".
func (ss *session) showBackend([]string) bool {
	ss.out.WriteString("# name\n")
	for _, be := range ss.srv.src.Backends() {
		ss.out.WriteString(be.Name + "\n")
	}
	return false
}

// showResolvers is "show resolvers [id]".
// table is "show table", "clear table" and "set table": below the
// operator level entries are neither shown nor changed.
func (ss *session) table(args []string) bool {
	ss.out.WriteString(ss.srv.src.Tables(args, ss.level >= LevelOperator))
	return false
}

// showCache is "show cache", at level admin.
func (ss *session) showCache([]string) bool {
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	if c, ok := ss.srv.src.(CacheSource); ok {
		ss.out.WriteString(c.Caches())
	}
	return false
}

// CacheSource is a Source that runs caches: Caches is the "show cache"
// answer.
type CacheSource interface {
	Caches() string
}

func (ss *session) showResolvers(args []string) bool {
	ss.out.WriteString(ss.srv.src.Resolvers(arg(args, 2)))
	return false
}

// findServer is cli_find_server: "<backend>/<server>", the server by
// name or "#id" (get_backend_server); ok is false once the error is
// answered.
func (ss *session) findServer(arg string) (*Backend, *ServerState, bool) {
	bname, sname, _ := strings.Cut(arg, "/")
	if bname == "" || sname == "" {
		ss.out.WriteString("Require 'backend/server'.\n")
		return nil, nil, false
	}
	be := ss.backendArg(bname)
	if be == nil {
		return nil, nil, false
	}
	sid := -1
	if id, ok := strings.CutPrefix(sname, "#"); ok {
		sid = atoi(id)
	}
	for i := range be.Servers {
		s := &be.Servers[i]
		if sid >= 0 && s.ID == sid || sid < 0 && s.Name == sname {
			return be, s, true
		}
	}
	ss.out.WriteString("No such server.\n")
	return nil, nil, false
}

// adminServer is findServer at level admin, the level of the commands
// that change a server.
func (ss *session) adminServer(arg string) (*Backend, *ServerState, bool) {
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return nil, nil, false
	}
	return ss.findServer(arg)
}

// setMaint is "disable server <b>/<s>" and "enable server <b>/<s>", at
// level admin: HAProxy answers nothing on success.
func (ss *session) setMaint(args []string) bool {
	be, s, ok := ss.adminServer(arg(args, 2))
	if !ok {
		return false
	}
	ss.srv.src.SetMaint(be.Name, s.Name, args[0] == "disable")
	return false
}
