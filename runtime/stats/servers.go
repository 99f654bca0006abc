package stats

import (
	"strconv"
	"strings"
)

// ServerAdmin changes servers for "set server" and "set weight".
type ServerAdmin interface {
	// ServerAction applies one of the stats page's server actions
	// ("ready", "drain", "maint") to a server named as Backends lists it.
	ServerAction(backend, server, action string)
	// SetHealth forces a server's health to "up", "stopping" or "down";
	// ok is false when the server tracks another, whose health it
	// follows.
	SetHealth(backend, server, health string) (ok bool)
	// SetWeight sets a server's weight in force; the error is HAProxy's
	// refusal by a static balance algorithm.
	SetWeight(backend, server string, weight int) error
}

// serverCommands are the server commands of src/server.c that gohap runs.
func serverCommands() []command {
	return []command{
		{words: []string{"set", "server"}, usage: "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl", run: (*session).setServer},
		{words: []string{"get", "weight"}, usage: "get weight <bk>/<srv>                   : report a server's current weight", run: (*session).getWeight},
		{words: []string{"set", "weight"}, usage: "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)", run: (*session).setWeight},
	}
}

// setServer is "set server <b>/<s> <setting> ...", at level admin; the
// address, agent, check, fqdn and ssl settings go to the ServerEditor.
func (ss *session) setServer(args []string) bool {
	be, s, ok := ss.adminServer(arg(args, 2))
	if !ok {
		return false
	}
	adm, _ := ss.srv.src.(ServerAdmin)
	if adm == nil {
		return false
	}
	what, val := arg(args, 3), arg(args, 4)
	switch what {
	case "weight":
		ss.changeWeight(adm, be, s, val)
	case "state":
		switch val {
		case "ready", "drain", "maint":
			adm.ServerAction(be.Name, s.Name, val)
		default:
			ss.out.WriteString("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n")
		}
	case "health":
		switch {
		case val != "up" && val != "stopping" && val != "down":
			ss.out.WriteString("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n")
		case !adm.SetHealth(be.Name, s.Name, val):
			ss.out.WriteString("cannot change health on a tracking server.\n")
		}
	case "addr", "fqdn", "ssl", "agent", "agent-addr", "agent-port", "agent-send", "check-addr", "check-port":
		ss.editServer(be, s, what, args)
	default:
		ss.out.WriteString("usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | " +
			"check-addr | check-port | fqdn | health | ssl | state | weight\n")
	}
	return false
}

// changeWeight is server_parse_weight_change_request: an absolute weight
// (0 to 256) or one relative to the initial weight ("50%"). Two of
// HAProxy's messages have no final newline.
func (ss *session) changeWeight(adm ServerAdmin, be *Backend, s *ServerState, text string) {
	if text == "" {
		ss.out.WriteString("Require <weight> or <weight%>.\n")
		return
	}
	w, rest, ok := strtol(text)
	switch {
	case !ok:
		ss.out.WriteString("Empty weight string empty or preceded by garbage")
		return
	case rest == "%":
		if w < 0 {
			ss.out.WriteString("Relative weight must be positive.\n")
			return
		}
		w = min(min(w, 25600)*int64(s.IWeight)/100, 256)
	case w < 0 || w > 256:
		ss.out.WriteString("Absolute weight can only be between 0 and 256 inclusive.\n")
		return
	case rest != "":
		ss.out.WriteString("Trailing garbage in weight string")
		return
	}
	if err := adm.SetWeight(be.Name, s.Name, int(w)); err != nil {
		ss.out.WriteString(err.Error() + "\n")
	}
}

// strtol reads a base 10 number as C's strtol: leading blanks and a sign;
// ok is false when no digit is read. rest is what follows it.
func strtol(s string) (n int64, rest string, ok bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		if n < 1<<40 {
			n = n*10 + int64(t[i]-'0')
		}
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	if neg {
		n = -n
	}
	return n, t[i:], true
}

// getWeight is "get weight <b>/<s>": the weight in force and the initial
// one.
func (ss *session) getWeight(args []string) bool {
	bname, sname, _ := strings.Cut(arg(args, 2), "/")
	if sname == "" {
		ss.out.WriteString("Require 'backend/server'.\n")
		return false
	}
	be := ss.backendArg(bname)
	if be == nil {
		return false
	}
	for _, s := range be.Servers {
		if id, ok := strings.CutPrefix(sname, "#"); ok && s.ID == atoi(id) || s.Name == sname {
			ss.out.WriteString(strconv.Itoa(s.UWeight) + " (initial " + strconv.Itoa(s.IWeight) + ")\n")
			return false
		}
	}
	ss.out.WriteString("No such server.\n")
	return false
}

// setWeight is "set weight <b>/<s> <weight>", at level admin.
func (ss *session) setWeight(args []string) bool {
	be, s, ok := ss.adminServer(arg(args, 2))
	if !ok {
		return false
	}
	if adm, _ := ss.srv.src.(ServerAdmin); adm != nil {
		ss.changeWeight(adm, be, s, arg(args, 3))
	}
	return false
}

// editServer is "set server <b>/<s> addr|fqdn|ssl ...".
func (ss *session) editServer(be *Backend, s *ServerState, what string, args []string) {
	ed := ss.editor()
	if ed == nil {
		return
	}
	var msg string
	switch what {
	case "addr":
		if arg(args, 4) == "" {
			ss.out.WriteString("set server <b>/<s> addr requires an address and optionally a port.\n")
			return
		}
		port := ""
		if arg(args, 5) == "port" {
			port = arg(args, 6)
		}
		msg = ed.SetServerAddr(be.Name, s.Name, arg(args, 4), port)
	case "fqdn":
		msg = ed.SetServerFQDN(be.Name, s.Name, arg(args, 4))
	case "ssl":
		msg = ed.SetServerSSL(be.Name, s.Name, arg(args, 4))
	case "check-addr", "agent-addr":
		if arg(args, 4) == "" {
			ss.out.WriteString("set server <b>/<s> " + what + " requires an address and optionally a port.\n")
			return
		}
		port := ""
		if arg(args, 5) == "port" {
			port = arg(args, 6)
		}
		// These reports have no final newline.
		ss.out.WriteString(ed.SetServerCheck(be.Name, s.Name, what, arg(args, 4), port))
		return
	case "check-port", "agent-port":
		if arg(args, 4) == "" {
			ss.out.WriteString("set server <b>/<s> " + what + " requires a port.\n")
			return
		}
		ss.out.WriteString(ed.SetServerCheck(be.Name, s.Name, what, "", arg(args, 4)))
		return
	case "agent":
		msg = ed.SetServerAgent(be.Name, s.Name, arg(args, 4))
	case "agent-send":
		ss.out.WriteString(ed.SetServerCheck(be.Name, s.Name, what, arg(args, 4), ""))
		return
	}
	if msg != "" {
		ss.out.WriteString(msg + "\n")
	}
}
