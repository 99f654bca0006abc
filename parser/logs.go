package parser

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser/logfmt"
)

// ProxyLog is what a proxy's log lines and options set. The frontend's
// settings decide where and how its traffic is logged.
type ProxyLog struct {
	// Targets are the proxy's log targets in order; "log global" adds
	// the global ones where it stands.
	Targets []Log
	// FormatText is the log format in force: option httplog, tcplog,
	// httpslog or a log-format line, the last one read; FormatPos where.
	// Format holds its nodes once ResolveLogFormat read it.
	FormatText string
	FormatPos  Pos
	Format     []logfmt.Node
	// SDText and SD are log-format-sd's.
	SDText string
	SDPos  Pos
	SD     []logfmt.Node
	// ErrText and Err are error-log-format's: the lines of connections
	// that failed before carrying a stream. Only frontends inherit it.
	ErrText string
	ErrPos  Pos
	Err     []logfmt.Node
	// Tag is the proxy's log-tag, "" for the global one.
	Tag string
	// ReqCaps and RspCaps are the capture request/response header lines.
	ReqCaps, RspCaps []Capture
	// Cookie and CookieLen are "capture cookie NAME len N": the first
	// cookie whose name starts with NAME, in requests and in responses.
	Cookie    string
	CookieLen int
}

// Capture is a "capture request|response header NAME len N" line.
type Capture struct {
	Pos  Pos
	Name string
	Len  int
}

// logTarget reads the target of a "log" line. A ring@ target is
// checked when the runtime starts (RingLogDiags), as HAProxy does.
func logTarget(c *pctx, global bool) (Log, bool) {
	parse := logfmt.ParseTarget
	if global {
		parse = logfmt.ParseGlobalTarget
	}
	args := c.args
	if len(args) < 2 {
		args = append(args[:len(args):len(args)], "")
	}
	orig := args[1]
	if ea := c.cp.env.expandAddr(orig); ea != orig {
		// The address is read with the environment's values, and named
		// as written in messages.
		args = append([]string{}, c.args...)
		args[1] = ea
	}
	t, err := parse(args)
	if err != nil {
		msg := err.Error()
		if args[1] != orig {
			msg = strings.Replace(msg, "in '"+args[1]+"'", "in '"+orig+"'", 1)
		}
		c.alert("log : %s", msg)
		return Log{}, false
	}
	if msg := unresolvedLogHost(t, args[1], orig); msg != "" {
		c.alert("log : %s", msg)
		return Log{}, false
	}
	if t.Kind == logfmt.Stream {
		c.cp.cfg.streamRings++
		t.Ring = fmt.Sprintf("ring#%d", c.cp.cfg.streamRings)
	}
	c.runtimeForm()
	return Log{Pos: c.pos, Address: args[1], Facility: t.Raw, Target: t}, true
}

// unresolvedLogHost is str2sa_range's verdict on a log target's host
// name, which must resolve now: "" when it does (or there is none). addr
// is the address read, written the address as the line has it.
func unresolvedLogHost(t logfmt.TargetConfig, addr, written string) string {
	if t.Host == "" || resolvable(t.Host) {
		return ""
	}
	host := t.Host
	if strings.Contains(addr, "["+host+"]") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("invalid address: '%s' in '%s'\n", host, written)
}

// kwLogProxy: "log <target> ...", "log global" (the global targets,
// where the line stands) and "no log".
func kwLogProxy(c *pctx) {
	p := c.cp.proxy
	switch {
	case c.mod == "no":
		c.runtimeForm()
		p.Log.Targets = nil
		p.HasLog = false
		return
	case c.arg(1) == "global" && c.arg(2) == "":
		c.runtimeForm()
		p.Log.Targets = append(p.Log.Targets[:len(p.Log.Targets):len(p.Log.Targets)], c.cp.cfg.Global.Logs...)
		p.HasLog = true
		return
	}
	p.HasLog = true
	if l, ok := logTarget(c, false); ok {
		p.Log.Targets = append(p.Log.Targets[:len(p.Log.Targets):len(p.Log.Targets)], l)
	}
}

// setLogFormat makes text the proxy's log format.
func setLogFormat(c *pctx, text string) {
	p := c.cp.proxy
	p.Log.FormatText, p.Log.FormatPos, p.Log.Format = text, c.pos, nil
	p.lfsPos = c.pos
}

func kwLogFormat(c *pctx) {
	if c.arg(1) == "" {
		c.alert("%s expects an argument.", c.args[0])
		return
	}
	if c.arg(2) != "" {
		c.alert("%s expects only one argument, don't forget to escape spaces!", c.args[0])
		return
	}
	c.runtimeForm()
	p := c.cp.proxy
	if c.args[0] == "log-format" && p.Cap&CapDef != 0 && p.Log.FormatText != "" {
		c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("'log-format' overrides previous '%s' in 'defaults' section.", prevLogFormat(p.Log.FormatText))})
	}
	defer func() {
		if p.Cap&(CapDef|CapFE) == 0 {
			c.warn("backend '%s' : '%s' directive is ignored in backends.", p.Name, c.args[0])
		}
	}()
	switch c.args[0] {
	case "log-format-sd":
		p.Log.SDText, p.Log.SDPos, p.Log.SD = c.arg(1), c.pos, nil
		return
	case "error-log-format":
		if p.Cap&CapDef != 0 && p.Log.ErrText != "" {
			c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
				Msg: "'error-log-format' overrides previous 'error-log-format' in 'defaults' section."})
		}
		p.Log.ErrText, p.Log.ErrPos, p.Log.Err = c.arg(1), c.pos, nil
		return
	}
	setLogFormat(c, c.arg(1))
}

// logOption sets the format of option httplog [clf], tcplog and
// httpslog.
func logOption(c *pctx, name string) {
	if c.mod == "no" {
		if c.cp.proxy.Log.FormatPos == c.cp.proxy.OptionPos[name] {
			c.cp.proxy.Log.FormatText = ""
		}
		return
	}
	p := c.cp.proxy
	// HAProxy's messages name "option httplog" for httpslog too.
	what := "option " + name
	text := map[string]string{"httplog": logfmt.HTTPLog, "tcplog": logfmt.TCPLog, "httpslog": logfmt.HTTPSLog}[name]
	switch name {
	case "httplog":
		if c.arg(2) == "clf" {
			text, what = logfmt.HTTPLogCLF, "option httplog clf"
		}
	case "httpslog":
		what = "option httplog"
	}
	if p.Cap&CapDef != 0 && p.Log.FormatText != "" {
		c.cp.add(Diagnostic{Severity: Warning, Pos: c.pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("'%s' overrides previous '%s' in 'defaults' section.", what, prevLogFormat(p.Log.FormatText))})
	}
	setLogFormat(c, text)
	// tcplog checks its arguments once its format is set.
	if name == "tcplog" && c.tooManyIdx(0, 1) {
		return
	}
	if p.Cap&(CapDef|CapFE) == 0 {
		c.warn("backend '%s' : 'option %s' directive is ignored in backends.", p.Name, name)
	}
}

// prevLogFormat names what set a defaults section's log format, for
// the warning of a line that overrides it.
func prevLogFormat(text string) string {
	switch text {
	case logfmt.HTTPLog:
		return "option httplog"
	case logfmt.TCPLog:
		return "option tcplog"
	case logfmt.HTTPLogCLF:
		return "option httplog clf"
	case logfmt.HTTPSLog:
		return "option httpslog"
	}
	return "log-format"
}

func kwLogTag(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' expects a tag for use in syslog.", c.args[0])
		return
	}
	c.runtimeForm()
	if c.cp.section == "global" {
		c.cp.cfg.Global.LogTag = c.arg(1)
		return
	}
	c.cp.proxy.Log.Tag = c.arg(1)
}

// kwCapture reads "capture request|response header NAME len N"; cookie
// captures stay refused.
func kwCapture(c *pctx) {
	if c.arg(1) == "cookie" {
		switch {
		case len(c.args) > 6:
			c.alert("'%s' cannot handle unexpected argument '%s'.", c.args[0]+" "+c.args[1], c.args[6])
		case c.arg(4) == "":
			c.alert("'%s' expects 'cookie' <cookie_name> 'len' <len>.", c.args[0])
		default:
			c.runtimeForm()
			c.cp.proxy.Log.Cookie, c.cp.proxy.Log.CookieLen = c.arg(2), int(Atol(c.arg(4)))
		}
		return
	}
	if (c.arg(1) != "request" && c.arg(1) != "response") || c.arg(2) != "header" {
		c.alert("'%s' expects 'cookie' or 'request header' or 'response header'.", c.args[0])
		return
	}
	if len(c.args) > 6 && c.args[6] != "" {
		c.alert("'%s %s' cannot handle unexpected argument '%s'.", c.args[0], c.args[1], c.args[6])
		return
	}
	if c.arg(3) == "" || c.arg(4) != "len" || c.arg(5) == "" {
		c.alert("'%s %s' expects 'header' <header_name> 'len' <len>.", c.args[0], c.args[1])
		return
	}
	n, err := strconv.Atoi(c.arg(5))
	if err != nil || n <= 0 {
		// HAProxy reads it with atol; the runtime refuses what that bends.
		return
	}
	c.runtimeForm()
	addCapture(c.cp.proxy, c.arg(1) == "request", Capture{Pos: c.pos, Name: c.arg(3), Len: n})
}

// addCapture adds a capture slot; its index is its rank. The slots are
// shared with the defaults section they came from, so the list is copied
// on append.
func addCapture(p *Proxy, request bool, cp Capture) int {
	l := &p.Log.RspCaps
	if request {
		l = &p.Log.ReqCaps
	}
	*l = append((*l)[:len(*l):len(*l)], cp)
	return len(*l) - 1
}

// kwDeclare reads "declare capture request|response len N": a slot that
// only http-request/http-response capture rules fill.
func kwDeclare(c *pctx) {
	p := c.cp.proxy
	switch {
	case p.Cap&CapDef != 0:
		c.alert("'%s' not available in default section", c.args[0])
		return
	case p.Cap&CapFE == 0:
		c.alert("'%s' only available in frontend or listen section", c.args[0])
		return
	case c.arg(1) == "":
		c.alert("'%s' needs a second keyword that specify the type of declaration ('capture')", c.args[0])
		return
	case c.arg(1) != "capture":
		c.alert("unknown declaration type '%s' (supports 'capture')", c.arg(1))
		return
	case c.arg(2) != "request" && c.arg(2) != "response":
		c.alert("'%s %s' requires a direction ('request' or 'response')", c.args[0], c.args[1])
		return
	case c.arg(3) != "len":
		c.alert("'%s %s' requires a capture length ('len')", c.args[0], c.args[1])
		return
	case c.arg(4) == "":
		c.alert("'%s %s': 'len' requires a numeric value that represents the capture length", c.args[0], c.args[1])
		return
	}
	n, ok := strtolBase10(c.arg(4))
	if !ok {
		// HAProxy names the 'len' word here, not the value.
		c.alert("'%s %s': cannot parse the length '%s'.", c.args[0], c.args[1], c.args[3])
		return
	}
	if n <= 0 {
		c.alert("length must be > 0")
		return
	}
	if n > math.MaxInt32 || c.arg(5) != "" {
		// Trailing words are ignored by HAProxy; the runtime refuses them.
		return
	}
	c.runtimeForm()
	addCapture(p, c.arg(2) == "request", Capture{Pos: c.pos, Len: int(n)})
}

// strtolBase10 is strtol(s, &end, 10) with *end == '\0' required:
// leading blanks and a sign are accepted, out of range values saturate.
func strtolBase10(s string) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		// No digits: strtol leaves end at the start of s.
		return 0, s == ""
	}
	var n int64
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 0, false
		}
		if n < math.MaxInt64/10 {
			n = n*10 + int64(t[i]-'0')
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// declareCapture gives an http-request capture rule with a length its
// own slot, as HAProxy does when it parses the rule.
func declareCapture(c *pctx, r *HTTPRule) {
	if r.CaptureLen > 0 {
		r.CaptureID = addCapture(c.cp.proxy, r.Keyword == "http-request", Capture{Pos: c.pos, Len: r.CaptureLen})
	}
}

// ResolveLogFormat reads the proxy's log formats once its mode is known,
// as HAProxy does after the whole configuration is read. The message is
// HAProxy's alert text.
func (p *Proxy) ResolveLogFormat() []string {
	var msgs []string
	parse := func(text string, pos Pos, what string) []logfmt.Node {
		if text == "" {
			return nil
		}
		nodes, err := logfmt.ParseWith(text, logfmt.Options{HTTP: p.Mode == "http", Flags: logfmt.LogFormatFlags})
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("Parsing [%s:%d]: failed to parse %s : %v.", pos.File, pos.Line, what, err))
			return nil
		}
		return nodes
	}
	text := p.Log.FormatText
	if p.Mode != "http" && (text == logfmt.HTTPLog || text == logfmt.HTTPLogCLF) {
		// HAProxy falls back to tcplog, with its warning.
		text = logfmt.TCPLog
	}
	p.Log.Format = parse(text, p.Log.FormatPos, "log-format")
	p.Log.SD = parse(p.Log.SDText, p.Log.SDPos, "log-format-sd")
	p.Log.Err = parse(p.Log.ErrText, p.Log.ErrPos, "error-log-format")
	if p.UniqueIDFormat != "" {
		nodes, err := logfmt.ParseWith(p.UniqueIDFormat, logfmt.Options{HTTP: p.Mode == "http", Flags: logfmt.UniqueIDFlags})
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("Parsing [%s:%d]: failed to parse unique-id : %v.", p.UniqueIDPos.File, p.UniqueIDPos.Line, err))
		}
		p.UniqueID = nodes
	}
	return msgs
}
