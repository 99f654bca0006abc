package stats

import "strings"

// ServerEditor adds, removes and reconfigures servers at run time; each
// answer is HAProxy's message ("" for none).
type ServerEditor interface {
	// AddServer is "add server": words are the address and the options;
	// bare is set for the answers HAProxy ends without a newline.
	AddServer(backend, server string, words []string) (answer string, ok bool)
	// DelServer is "del server" of a server the CLI found.
	DelServer(backend, server string) string
	// SetCheck is "enable|disable health|agent".
	SetCheck(backend, server string, agent, on bool) string
	// SetServerAddr, SetServerFQDN and SetServerSSL are "set server"'s
	// addr, fqdn and ssl.
	SetServerAddr(backend, server, addr, port string) string
	SetServerFQDN(backend, server, fqdn string) string
	SetServerSSL(backend, server, onoff string) string
	// SetServerCheck is "set server"'s check-addr, check-port,
	// agent-addr, agent-port and agent-send (addr holds the string).
	SetServerCheck(backend, server, what, addr, port string) string
	// SetServerAgent is "set server ... agent up|down".
	SetServerAgent(backend, server, state string) string
	// SetDynCookie is "enable|disable dynamic-cookie backend" (on set)
	// and "set dynamic-cookie-key backend" (key set).
	SetDynCookie(backend string, on *bool, key *string)
}

// dynServerCommands are "add server", "del server" and the commands that
// start and stop checks.
func dynServerCommands() []command {
	return []command{
		{words: []string{"disable", "agent"}, usage: "disable agent                           : disable agent checks", run: (*session).setCheck},
		{words: []string{"disable", "health"}, usage: "disable health                          : disable health checks", run: (*session).setCheck},
		{words: []string{"enable", "agent"}, usage: "enable agent                            : enable agent checks", run: (*session).setCheck},
		{words: []string{"enable", "health"}, usage: "enable health                           : enable health checks", run: (*session).setCheck},
		{words: []string{"add", "server"}, usage: "add server <bk>/<srv>                   : create a new server", run: (*session).addServer},
		{words: []string{"del", "server"}, usage: "del server <bk>/<srv>                   : remove a dynamically added server", run: (*session).delServer},
		{words: []string{"enable", "dynamic-cookie", "backend"}, usage: "enable dynamic-cookie backend <bk>      : enable dynamic cookies on a specific backend", run: (*session).dynCookie},
		{words: []string{"disable", "dynamic-cookie", "backend"}, usage: "disable dynamic-cookie backend <bk>     : disable dynamic cookies on a specific backend", run: (*session).dynCookie},
		{words: []string{"set", "dynamic-cookie-key", "backend"}, usage: "set dynamic-cookie-key backend <bk> <k> : change a backend secret key for dynamic cookies", run: (*session).dynCookie},
	}
}

// dynCookie is "enable|disable dynamic-cookie backend <b>" and "set
// dynamic-cookie-key backend <b> <key>", at level admin, silent when done.
func (ss *session) dynCookie(args []string) bool {
	ed := ss.editor()
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	if ed == nil {
		return false
	}
	name := arg(args, 3)
	if name == "" {
		ss.out.WriteString("A backend name is expected.\n")
		return false
	}
	be := ss.backendArg(name)
	if be == nil {
		return false
	}
	if args[0] == "set" {
		key := arg(args, 4)
		if key == "" {
			ss.out.WriteString("String value expected.\n")
			return false
		}
		ed.SetDynCookie(be.Name, nil, &key)
		return false
	}
	on := args[0] == "enable"
	ed.SetDynCookie(be.Name, &on, nil)
	return false
}

// splitServerArg splits "<b>/<s>" as cli_parse_add_server does: at the
// first '/' after the first character.
func splitServerArg(a string) (string, string) {
	if len(a) < 2 {
		return a, ""
	}
	i := strings.IndexByte(a[1:], '/')
	if i < 0 {
		return a, ""
	}
	return a[:i+1], a[i+2:]
}

func (ss *session) editor() ServerEditor {
	ed, _ := ss.srv.src.(ServerEditor)
	return ed
}

// serverCommand checks what "add server" and "del server" share: level
// admin and a <backend>/<server> argument; ok is false once answered.
func (ss *session) serverCommand(args []string) (ed ServerEditor, bname, sname string, ok bool) {
	ed = ss.editor()
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return nil, "", "", false
	}
	if ed == nil {
		return nil, "", "", false
	}
	bname, sname = splitServerArg(arg(args, 2))
	if sname == "" {
		ss.out.WriteString("Require 'backend/server'.")
		return nil, "", "", false
	}
	return ed, bname, sname, true
}

// addServer is "add server <b>/<s> <addr> [options]", at level admin.
func (ss *session) addServer(args []string) bool {
	ed, bname, sname, ok := ss.serverCommand(args)
	if !ok {
		return false
	}
	var words []string
	if len(args) > 3 {
		words = args[3:]
	}
	// HAProxy's own refusals have no final newline, unlike the parser's
	// messages and the success.
	answer, bare := ed.AddServer(bname, sname, words)
	if !bare {
		answer += "\n"
	}
	ss.out.WriteString(answer)
	return false
}

// delServer is "del server <b>/<s>", at level admin.
func (ss *session) delServer(args []string) bool {
	// cli_parse_delete_server's answers have no final newline.
	ed, bname, sname, ok := ss.serverCommand(args)
	if !ok {
		return false
	}
	be := findBackend(ss.srv.src.Backends(), bname)
	if be == nil {
		ss.out.WriteString("No such backend.")
		return false
	}
	for _, s := range be.Servers {
		if s.Name == sname {
			ss.out.WriteString(ed.DelServer(be.Name, s.Name))
			return false
		}
	}
	ss.out.WriteString("No such server.")
	return false
}

// setCheck is "enable|disable health|agent <b>/<s>", at level admin.
func (ss *session) setCheck(args []string) bool {
	be, s, ok := ss.adminServer(arg(args, 2))
	ed := ss.editor()
	if !ok || ed == nil {
		return false
	}
	if msg := ed.SetCheck(be.Name, s.Name, args[1] == "agent", args[0] == "enable"); msg != "" {
		ss.out.WriteString(msg + "\n")
	}
	return false
}
