package stats

import "strings"

// VarSource gives the CLI the process-wide variables.
type VarSource interface {
	// GetVar returns a proc variable's type name and its value as text
	// (nil when it does not convert to a string); ok is false when the
	// variable is not set.
	GetVar(name string) (typ string, text []byte, ok bool)
	// SetVar sets a proc variable from a sample expression or, with fmt,
	// a log-format string; the error is HAProxy's message.
	SetVar(name, text string, fmt bool) error
}

// varCommands are "get var" and "set var" (src/vars.c), and the
// experimental mode that "set var" needs (src/cli.c).
func varCommands() []command {
	return []command{
		{words: []string{"get", "var"}, usage: "get var <name>                          : retrieve contents of a process-wide variable", run: (*session).getVar},
		{words: []string{"set", "var"}, usage: "set var <name> [fmt|expr] {<fmt>|<expr>}: set variable from an expression or a format", run: (*session).setVar, experimental: true},
		{words: []string{"experimental-mode"}, run: (*session).experimentalMode},
		{words: []string{"expert-mode"}, run: (*session).experimentalMode},
	}
}

// getVar is "get var <name>", at level operator: "<name>: type=<t>
// value=<v>", with the bytes that are not printable shown as dots.
func (ss *session) getVar(args []string) bool {
	if ss.level < LevelOperator {
		ss.out.WriteString(permissionDenied)
		return false
	}
	name := arg(args, 2)
	if name == "" {
		ss.out.WriteString("Missing process-wide variable identifier.\n")
		return false
	}
	vs, ok := ss.srv.src.(VarSource)
	var typ string
	var text []byte
	if ok {
		typ, text, ok = vs.GetVar(name)
	}
	if !ok {
		ss.out.WriteString("Variable not found.\n")
		return false
	}
	ss.out.WriteString(name + ": type=" + typ + " value=")
	if text == nil {
		ss.out.WriteString("(undisplayable)")
		return false
	}
	ss.out.WriteByte('<')
	for _, c := range text {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		ss.out.WriteByte(c)
	}
	ss.out.WriteByte('>')
	return false
}

// setVar is "set var <name> [expr|fmt] <expression>", at level operator
// in experimental mode. Its errors end without a newline, as HAProxy's.
func (ss *session) setVar(args []string) bool {
	if ss.level < LevelOperator {
		ss.out.WriteString(permissionDenied)
		return false
	}
	if arg(args, 2) == "" {
		ss.out.WriteString("Missing process-wide variable identifier.\n")
		return false
	}
	if arg(args, 3) == "" {
		ss.out.WriteString("Missing either 'expr', 'fmt' or expression.\n")
		return false
	}
	text, fmt := args[3], false
	if arg(args, 4) != "" {
		switch args[3] {
		case "fmt":
			fmt = true
		case "expr":
		default:
			ss.out.WriteString("'" + args[0] + " " + args[1] + "': arg type must be either 'expr' or 'fmt' but got '" + args[3] + "'.")
			return false
		}
		text = args[4]
	}
	vs, ok := ss.srv.src.(VarSource)
	if !ok {
		return false
	}
	if err := vs.SetVar(args[2], text, fmt); err != nil {
		ss.out.WriteString(strings.Replace(err.Error(), "%CMD%", args[0]+" "+args[1], 1))
	}
	return false
}

// experimentalMode is "experimental-mode [on|off]" and "expert-mode
// [on|off]", at level admin (cli_parse_expert_experimental_mode).
func (ss *session) experimentalMode(args []string) bool {
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	mode := &ss.experimental
	if args[0] == "expert-mode" {
		mode = &ss.expert
	}
	if arg(args, 1) == "" {
		state := "OFF"
		if *mode {
			state = "ON"
		}
		ss.out.WriteString(args[0] + " is " + state + "\n")
		return false
	}
	*mode = args[1] == "on"
	return false
}
