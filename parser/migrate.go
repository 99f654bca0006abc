package parser

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Change is one rewrite made by Migrate.
type Change struct {
	Pos    Pos
	Rule   string // short rule name, e.g. "clitimeout"
	Before string
	After  string // "" when the line was removed
	Note   string
}

// MigrateOptions control Migrate.
type MigrateOptions struct {
	// InitAddrNone adds "init-addr last,libc,none" to servers whose host
	// name does not resolve here, so that HAProxy can start without it.
	InitAddrNone bool
	// Resolve reports whether a host name resolves; nil uses the system.
	Resolve func(string) bool
}

// Migrate rewrites legacy 1.x syntax in one file into what HAProxy 2.6
// accepts, keeping every other byte. It returns the new text and the list
// of changes, including semantic notes that do not change the text.
func Migrate(in Input, opts MigrateOptions) ([]byte, []Change) {
	if opts.Resolve == nil {
		opts.Resolve = resolvable
	}
	st := &lexState{env: newEnv(nil)}
	st.env.file = in.Name
	lx := st.lexFile(in.Name, in.Data)
	m := &migrator{opts: opts, file: in.Name, firstHTTPReq: -1, servers: map[string]bool{}}
	for i := 0; i < len(lx.toks); {
		l := &Line{}
		for ; i < len(lx.toks); i++ {
			t := lx.toks[i]
			if t.Type == tokWord {
				l.Words = append(l.Words, Word{Pos: t.Pos, Value: t.Value})
			}
			if t.Type == tokEOL {
				l.Pos, l.Raw = t.Pos, t.Value
				i++
				break
			}
		}
		m.lines = append(m.lines, l)
	}
	m.findLegacyQuotes(st.diags)
	m.run()
	return []byte(m.out.String()), m.changes
}

type migrator struct {
	opts    MigrateOptions
	file    string
	lines   []*Line
	out     strings.Builder
	changes []Change
	// firstHTTPReq is the output offset of the current section's first
	// http-request line, where a converted 'block' rule must go.
	firstHTTPReq int
	servers      map[string]bool // server names of the current section
	hasTunnel    map[string]bool
	wsBackends   map[string]bool
	// requoted holds the lines read with the 1.5 tokenizer, with their
	// comment (migrate_quotes.go).
	requoted map[*Line]string
	// defaultsACLs are the acl lines of anonymous defaults sections, by
	// line index, and aclCopies those each proxy needs, by the index of
	// its header (migrate_acl.go).
	defaultsACLs map[int]*defaultsACL
	aclCopies    map[int][]*defaultsACL
	// sendGroups maps each line of a run of http-check send rules to its
	// run (migrate_httpcheck.go).
	sendGroups map[int]*sendGroup
}

func indentOf(raw string) string {
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t') {
		i++
	}
	return raw[:i]
}

func eolOf(raw string) string {
	switch {
	case strings.HasSuffix(raw, "\r\n"):
		return "\r\n"
	default:
		return "\n"
	}
}

// quoteWord renders a word so that HAProxy's tokenizer reads it back.
func quoteWord(w string) string {
	if w == "" {
		return `""`
	}
	ctl := strings.IndexFunc(w, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
	if !ctl && !strings.ContainsAny(w, " \t#'\"\\$") {
		return w
	}
	if !ctl && !strings.ContainsAny(w, "'") {
		return "'" + w + "'"
	}
	// Double quotes, where a backslash escapes '\\', '"', '$' and writes
	// control characters.
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == '\\' || c == '"' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func joinWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = quoteWord(w)
	}
	return strings.Join(q, " ")
}

func (m *migrator) run() {
	m.scanWebSockets()
	m.scanDefaultsACLs()
	m.scanHTTPCheckSends()
	legacy := false
	for _, l := range m.lines {
		if m.isLegacy(l) {
			legacy = true
			break
		}
	}
	if legacy {
		m.header()
	}
	for idx, l := range m.lines {
		m.line(idx, l)
	}
}

// header adds the semantic notes that apply to every migrated 1.x file.
func (m *migrator) header() {
	eol := "\n"
	if len(m.lines) > 0 {
		eol = eolOf(m.lines[0].Raw)
	}
	notes := []string{
		"Migrated from HAProxy 1.x syntax by gohap migrate. Behaviour changes in 2.x:",
		"- HTTP connections are kept alive on both sides by default (1.3/1.4 only parsed the first request of a connection).",
		"- a frontend's default maxconn is the global maxconn (it was 2000 in 1.x).",
		"- option httpclose actively closes connections (in 1.x it only added 'Connection: close').",
		"- header names are sent in lower case to servers and clients.",
	}
	for _, n := range notes {
		m.out.WriteString("# " + n + eol)
	}
	m.changes = append(m.changes, Change{Pos: Pos{File: m.file, Line: 1}, Rule: "semantics", Note: strings.Join(notes[1:], " ")})
}

func (m *migrator) isLegacy(l *Line) bool {
	if _, ok := m.requoted[l]; ok {
		return true
	}
	if len(l.Words) == 0 {
		return !strings.HasSuffix(l.Raw, "\n")
	}
	w := l.Words[0].Value
	if _, ok := legacyProxyKeywords[w]; ok {
		return true
	}
	if _, ok := legacyGlobal[w]; ok {
		return true
	}
	if (w == "frontend" || w == "listen") && len(l.Words) > 2 && l.Words[2].Value != "from" {
		return true
	}
	if w == "option" && len(l.Words) > 1 {
		_, ok := legacyOptions[l.Words[1].Value]
		return ok
	}
	if w == "timeout" && len(l.Words) > 1 {
		_, ok := legacyTimeouts[l.Words[1].Value]
		return ok || l.Words[1].Value == "appsession"
	}
	return false
}

// scanWebSockets finds backends that receive WebSocket traffic (a
// use_backend whose condition names an ACL on Upgrade or a "ws" host) and
// those that set a tunnel timeout, for the timeout tunnel note.
func (m *migrator) scanWebSockets() {
	m.hasTunnel, m.wsBackends = map[string]bool{}, map[string]bool{}
	wsACL := map[string]bool{}
	sect, name := "", ""
	for _, l := range m.lines {
		if len(l.Words) == 0 {
			continue
		}
		a := l.Args()
		if isSectionKeyword(a[0]) {
			sect, name = a[0], ""
			if len(a) > 1 {
				name = a[1]
			}
			continue
		}
		low := strings.ToLower(strings.Join(a, " "))
		switch {
		case a[0] == "acl" && len(a) > 1 && (strings.Contains(low, "upgrade") || strings.Contains(low, "websocket")):
			wsACL[a[1]] = true
		case a[0] == "use_backend" && len(a) > 2:
			for _, w := range restOf(a, 2) {
				if wsACL[strings.TrimPrefix(w, "!")] || strings.Contains(strings.ToLower(w), "websocket") {
					m.wsBackends[a[1]] = true
				}
			}
		case a[0] == "timeout" && len(a) > 2 && a[1] == "tunnel" && a[2] != "0":
			m.hasTunnel[name] = true
			if sect == "defaults" {
				m.hasTunnel[""] = true
			}
		}
	}
}

func (m *migrator) emit(indent, text, eol string) {
	m.out.WriteString(indent + text + eol)
}

func (m *migrator) change(l *Line, rule, after, note string) {
	m.changes = append(m.changes, Change{Pos: Pos{File: m.file, Line: l.Pos.Line}, Rule: rule,
		Before: strings.TrimRight(l.Raw, "\r\n"), After: after, Note: note})
}

// manual comments a line out that has no exact 2.6 equivalent.
func (m *migrator) manual(l *Line, rule, note string) {
	ind, eol := indentOf(l.Raw), eolOf(l.Raw)
	body := strings.TrimLeft(strings.TrimRight(l.Raw, "\r\n"), " \t")
	m.emit(ind, "# gohap migrate: manual action needed: "+note, eol)
	m.emit(ind, "# "+body, eol)
	m.change(l, rule, "# "+body, "manual action needed: "+note)
}

func (m *migrator) line(idx int, l *Line) {
	raw := l.Raw
	eol := eolOf(raw)
	if !strings.HasSuffix(raw, "\n") {
		raw += eol
		if len(l.Words) == 0 && strings.TrimSpace(raw) == "" {
			m.out.WriteString(raw)
			return
		}
		m.changes = append(m.changes, Change{Pos: Pos{File: m.file, Line: l.Pos.Line}, Rule: "missing-lf",
			Before: strings.TrimRight(l.Raw, "\r\n"), After: strings.TrimRight(l.Raw, "\r\n"), Note: "added the final newline that HAProxy 2.6 requires"})
		l.Raw = raw
	}
	if len(l.Words) == 0 {
		m.out.WriteString(raw)
		return
	}
	if _, ok := m.requoted[l]; ok {
		raw = m.requote(l, raw)
		l.Raw = raw
	}
	a := l.Args()
	ind := indentOf(raw)
	kw := a[0]
	if isSectionKeyword(kw) {
		m.openSection(idx, l, a)
		return
	}
	rewrite := func(rule string, words []string, note string) {
		text := joinWords(words)
		m.emit(ind, text, eol)
		m.change(l, rule, text, note)
	}
	remove := func(rule, note string) {
		m.change(l, rule, "", note)
	}
	switch {
	case m.defaultsACLs[idx] != nil:
		m.defaultsACL(l, m.defaultsACLs[idx])
	case m.sendGroups[idx] != nil && kw == "http-check":
		m.httpCheckSend(idx, l, ind, eol)
	case kw == "nbproc":
		if n, _ := strconv.Atoi(arg(a, 1)); n > 1 {
			rewrite(kw, []string{"nbthread", a[1]}, "processes become threads")
		} else {
			remove(kw, "threads are used automatically")
		}
	case kw == "bind-process", kw == "tune.chksize", kw == "debug", kw == "grace":
		remove(kw, "no longer exists in HAProxy 2.x")
	case kw == "nosepoll":
		rewrite(kw, []string{"noepoll"}, "")
	case kw == "clitimeout" || kw == "srvtimeout" || kw == "contimeout":
		rewrite(kw, append([]string{"timeout", legacyTimeouts[kw]}, restOf(a, 1)...), "")
	case kw == "timeout" && legacyTimeouts[arg(a, 1)] != "":
		rewrite("timeout "+a[1], append([]string{"timeout", legacyTimeouts[a[1]]}, restOf(a, 2)...), "")
	case kw == "timeout" && arg(a, 1) == "appsession":
		remove("timeout appsession", "appsession no longer exists")
	case kw == "redispatch" || kw == "redisp":
		rewrite(kw, []string{"option", "redispatch"}, "")
	case kw == "block":
		text := joinWords(append([]string{"http-request", "deny"}, restOf(a, 1)...))
		if m.firstHTTPReq >= 0 {
			// 'block' ran before every http-request rule: put it first.
			s := m.out.String()
			m.out.Reset()
			m.out.WriteString(s[:m.firstHTTPReq] + ind + text + eol + s[m.firstHTTPReq:])
			m.change(l, kw, text, "moved before the other http-request rules, where 'block' ran")
			return
		}
		rewrite(kw, append([]string{"http-request", "deny"}, restOf(a, 1)...), "")
	case kw == "http-request":
		if m.firstHTTPReq < 0 {
			m.firstHTTPReq = m.out.Len()
		}
		m.out.WriteString(raw)
	case kw == "reqadd" || kw == "rspadd":
		side := "http-request"
		if kw == "rspadd" {
			side = "http-response"
		}
		name, val, ok := strings.Cut(arg(a, 1), ":")
		if !ok || name == "" {
			m.manual(l, kw, "the header has no 'Name:' part")
			return
		}
		val = strings.ReplaceAll(strings.TrimLeft(val, " "), "%", "%%")
		rewrite(kw, append([]string{side, "add-header", name, val}, restOf(a, 2)...), "")
	case kw == "reqdel" || kw == "reqidel" || kw == "rspdel" || kw == "rspidel":
		side := "http-request"
		if strings.HasPrefix(kw, "rsp") {
			side = "http-response"
		}
		if name, rest, ok := headerRegex(arg(a, 1)); ok && (rest == "" || rest == ".*") {
			rewrite(kw, append([]string{side, "del-header", name}, restOf(a, 2)...), "")
			return
		}
		m.manual(l, kw, "the regex does not name a single header; use '"+side+" del-header <name>'")
	case kw == "reqrep" || kw == "reqirep" || kw == "rsprep" || kw == "rspirep" || kw == "cliexp" || kw == "srvexp":
		m.replaceRule(l, a, ind, eol)
	case kw == "reqdeny" || kw == "reqideny" || kw == "reqallow" || kw == "reqiallow" || kw == "reqtarpit" || kw == "reqitarpit" ||
		kw == "rspdeny" || kw == "rspideny":
		m.filterRule(l, a, ind, eol)
	case kw == "reqpass" || kw == "reqipass":
		remove(kw, "it only stopped the evaluation of later req* rules")
	case kw == "reqsetbe" || kw == "reqisetbe":
		name, rest, ok := headerRegex(arg(a, 1))
		if !ok || arg(a, 2) == "" {
			m.manual(l, kw, "use 'use_backend <backend> if <condition>'")
			return
		}
		cond := []string{"{", "hdr_reg(" + strings.ToLower(name) + ")"}
		if kw == "reqisetbe" {
			cond = append(cond, "-i")
		}
		cond = append(cond, rest, "}")
		rewrite(kw, append([]string{"use_backend", a[2], "if"}, cond...), "")
	case kw == "monitor-net":
		rewrite(kw, []string{"http-request", "return", "status", "200", "if", "{", "src", arg(a, 1), "}"}, "")
	case kw == "mode" && arg(a, 1) == "health":
		m.emit(ind, "mode http", eol)
		rewrite("mode health", []string{"http-request", "return", "status", "200"}, "")
	case kw == "errorfile" && len(a) == 3:
		// A 1.x errorfile could hold only a body; 2.x parses it as a
		// response, so serve such a file with http-error instead.
		data, err := os.ReadFile(a[2])
		if err != nil || IsHTTPResponse(data) {
			m.out.WriteString(raw)
			return
		}
		rewrite(kw, []string{"http-error", "status", a[1], "content-type", "text/html", "file", a[2]}, "the file holds only a body")
	case kw == "appsession":
		m.manual(l, kw, "use 'cookie "+arg(a, 1)+" prefix nocache' or a stick table on req.cook("+arg(a, 1)+")")
	case kw == "hash-type" && arg(a, 1) == "avalanche":
		rewrite("hash-type avalanche", []string{"hash-type", "map-based", "sdbm", "avalanche"}, "")
	case kw == "option" || (kw == "no" && arg(a, 1) == "option"):
		m.option(idx, l, a, ind, eol, raw)
	case kw == "server" && len(a) > 2:
		words, rule, note := a, "", ""
		// 1.x let servers of one backend share a name; 2.x requires
		// distinct names.
		if m.servers[a[1]] {
			n := 2
			for m.servers[fmt.Sprintf("%s_%d", a[1], n)] {
				n++
			}
			words = append([]string{kw, fmt.Sprintf("%s_%d", a[1], n)}, restOf(a, 2)...)
			rule, note = "server-name", "server names must be unique in a backend since HAProxy 1.6"
		}
		m.servers[words[1]] = true
		if h := serverHostOf(a[2]); m.opts.InitAddrNone && h != "" && !strings.Contains(raw, "init-addr") && !m.opts.Resolve(h) {
			words = append(append([]string{}, words...), "init-addr", "last,libc,none")
			rule, note = "init-addr", "'"+h+"' does not resolve here"
		}
		if rule == "" {
			m.out.WriteString(raw)
			return
		}
		rewrite(rule, words, note)
	case kw == "stats" && arg(a, 1) == "socket" && arg(a, 2) != "" && !strings.HasPrefix(a[2], "/") && !strings.Contains(a[2], "@") && !strings.Contains(a[2], ":"):
		// 1.x took any 'stats socket' argument as a UNIX socket path.
		w := append([]string{}, a...)
		w[2] = "unix@" + a[2]
		rewrite("stats socket", w, "a relative path needs the unix@ prefix in 2.x")
	default:
		m.out.WriteString(raw)
	}
}

func (m *migrator) openSection(idx int, l *Line, a []string) {
	m.firstHTTPReq = -1
	m.servers = map[string]bool{}
	raw := l.Raw
	eol := eolOf(raw)
	ind := indentOf(raw)
	if (a[0] == "frontend" || a[0] == "listen" || a[0] == "backend") && len(a) > 2 && a[2] != "from" {
		head := joinWords(a[:2])
		m.emit(ind, head, eol)
		body := m.bodyIndent(idx)
		if a[0] == "backend" {
			m.emit(body, "# gohap migrate: manual action needed: the dispatch address "+strings.Join(restOf(a, 2), " ")+" became a 'server' line", eol)
			m.change(l, "section-address", head, "manual action needed: backend dispatch address")
		} else {
			bind := "bind " + strings.Join(restOf(a, 2), "")
			m.emit(body, bind, eol)
			m.change(l, "section-address", head+" + "+bind, "")
		}
	} else {
		m.out.WriteString(raw)
	}
	m.copyDefaultsACLs(idx, l, eol)
	if a[0] == "backend" || a[0] == "listen" {
		if m.wsBackends[arg(a, 1)] && !m.hasTunnel[arg(a, 1)] && !m.hasTunnel[""] && !m.noted(idx) {
			m.changes = append(m.changes, Change{Pos: Pos{File: m.file, Line: l.Pos.Line}, Rule: "timeout-tunnel",
				Note: fmt.Sprintf("backend '%s' carries WebSocket traffic but sets no 'timeout tunnel': idle tunnels close at the first of 'timeout client' and 'timeout server'; consider 'timeout tunnel 1h'", arg(a, 1))})
			m.emit(m.bodyIndent(idx), "# gohap migrate: WebSocket backend without 'timeout tunnel': tunnels close at min(timeout client, timeout server); consider 'timeout tunnel 1h'", eol)
		}
	}
}

// noted reports whether the tunnel note already follows line idx.
func (m *migrator) noted(idx int) bool {
	return idx+1 < len(m.lines) && strings.Contains(m.lines[idx+1].Raw, "# gohap migrate: WebSocket backend")
}

// bodyIndent is the indentation of the first keyword line after idx.
func (m *migrator) bodyIndent(idx int) string {
	for _, l := range m.lines[idx+1:] {
		if len(l.Words) > 0 {
			if isSectionKeyword(l.Words[0].Value) {
				break
			}
			return indentOf(l.Raw)
		}
	}
	return "    "
}

func (m *migrator) option(idx int, l *Line, a []string, ind, eol, raw string) {
	words := a
	prefix := []string{}
	if a[0] == "no" {
		prefix, words = []string{"no"}, restOf(a, 1)
	}
	name := arg(words, 1)
	rewrite := func(rule string, w []string, note string) {
		text := joinWords(append(append([]string{}, prefix...), w...))
		m.emit(ind, text, eol)
		m.change(l, rule, text, note)
	}
	switch name {
	case "forceclose":
		rewrite("option forceclose", []string{"option", "httpclose"}, "")
	case "http-tunnel", "http-use-htx":
		m.change(l, "option "+name, "", "no longer needed in HAProxy 2.x")
	case "independant-streams":
		rewrite("option independant-streams", []string{"option", "independent-streams"}, "")
	case "tcpsplice":
		rewrite("option tcpsplice", []string{"option", "splice-auto"}, "")
	case "http_proxy":
		m.manual(l, "option http_proxy", "use 'http-request set-dst' and 'http-request set-uri' (with 'do-resolve' for DNS)")
	case "httpchk":
		// 1.x smuggled headers after the version: "HTTP/1.1\r\nHost:\ x".
		if len(prefix) > 0 || !m.httpchk(idx, l, words, ind, eol) {
			m.out.WriteString(raw)
		}
	default:
		m.out.WriteString(raw)
	}
}

// headerRegex splits a 1.x header-line regex "^Name:\ rest" into the header
// name and the regex for its value.
func headerRegex(re string) (name, rest string, ok bool) {
	s := strings.TrimPrefix(re, "^")
	i := strings.IndexByte(s, ':')
	if i <= 0 || !headerName.MatchString(s[:i]) {
		return "", "", false
	}
	rest = s[i+1:]
	for _, sp := range []string{" ", "\\ ", "[\\ ]*", "\\s*", "\\s+", " *", "[ ]*"} {
		if strings.HasPrefix(rest, sp) {
			rest = rest[len(sp):]
			break
		}
	}
	return s[:i], rest, true
}

var headerName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

var (
	reReqLine = regexp.MustCompile(`^\^(\([^)]*\)|[A-Z]+)( )(.*)$`)
	reReqRepl = regexp.MustCompile(`^(\\1|[A-Z]+)( )(.*)$`)
)

// trimVersion drops the " HTTP/x" part of a request-line regex or
// replacement.
func trimVersion(s string) string {
	for _, suf := range []string{"( .*)", " .*", ` \2`, ` \3`, " HTTP/1.1", " HTTP/1.0"} {
		s = strings.TrimSuffix(s, suf)
	}
	return s
}

func (m *migrator) replaceRule(l *Line, a []string, ind, eol string) {
	kw := a[0]
	re, repl := arg(a, 1), arg(a, 2)
	icase := kw == "reqirep" || kw == "rspirep"
	side := "http-request"
	if strings.HasPrefix(kw, "rsp") || kw == "srvexp" {
		side = "http-response"
	}
	cond := restOf(a, 3)
	if name, rest, ok := headerRegex(re); ok {
		if rname, rrest, ok2 := headerRegex(repl); ok2 && strings.EqualFold(rname, name) {
			// The 1.x regex was anchored at the line start, before the name.
			rest = "^" + rest
			if icase {
				rest = "(?i)" + rest
			}
			words := append([]string{side, "replace-header", name, rest, rrest}, cond...)
			text := joinWords(words)
			m.emit(ind, text, eol)
			m.change(l, kw, text, "")
			return
		}
	}
	if side == "http-request" {
		// A request-line regex: "^METHOD URI[ VERSION]" (spaces were
		// escaped in the file and are plain after tokenizing).
		mm := reReqLine.FindStringSubmatch(re)
		rm := reReqRepl.FindStringSubmatch(repl)
		if mm != nil && rm != nil {
			methodGroup := strings.HasPrefix(mm[1], "(")
			uriRe, uriRepl := trimVersion(mm[3]), trimVersion(rm[3])
			sameMethod := (methodGroup && rm[1] == `\1`) || rm[1] == mm[1]
			if sameMethod && !strings.Contains(uriRe, " ") && !strings.Contains(uriRepl, " ") {
				if methodGroup {
					uriRepl = shiftGroups(uriRepl)
				}
				uriRe = "^" + uriRe
				if icase {
					uriRe = "(?i)" + uriRe
				}
				words := append([]string{"http-request", "replace-uri", uriRe, uriRepl}, cond...)
				if !methodGroup {
					words = append(words[:4], append([]string{"if", "{", "method", mm[1], "}"}, cond...)...)
				}
				text := joinWords(words)
				m.emit(ind, text, eol)
				m.change(l, kw, text, "request-line regex mapped to replace-uri")
				return
			}
		}
	}
	m.manual(l, kw, "no exact equivalent; use '"+side+" replace-header', 'replace-path' or 'replace-uri'")
}

// shiftGroups renumbers \N back-references after the method group is gone.
func shiftGroups(s string) string {
	return regexp.MustCompile(`\\([2-9])`).ReplaceAllStringFunc(s, func(g string) string {
		return `\` + string(g[1]-1)
	})
}

func (m *migrator) filterRule(l *Line, a []string, ind, eol string) {
	kw := a[0]
	action := map[string]string{"reqdeny": "deny", "reqideny": "deny", "reqallow": "allow", "reqiallow": "allow",
		"reqtarpit": "tarpit", "reqitarpit": "tarpit", "rspdeny": "deny", "rspideny": "deny"}[kw]
	side, fetch := "http-request", "req.hdr"
	if strings.HasPrefix(kw, "rsp") {
		side, fetch = "http-response", "res.hdr"
	}
	icase := strings.HasPrefix(kw, "reqi") || strings.HasPrefix(kw, "rspi")
	name, rest, ok := headerRegex(arg(a, 1))
	if !ok && headerName.MatchString(strings.TrimPrefix(arg(a, 1), "^")) && strings.HasPrefix(arg(a, 1), "^") {
		// "^Name" matched every header line starting with Name.
		name, rest, ok = strings.TrimPrefix(arg(a, 1), "^"), "", true
	}
	if !ok {
		m.manual(l, kw, "use '"+side+" "+action+" if { <fetch> -m reg <regex> }' on the part of the message the regex matched")
		return
	}
	cond := []string{"if", "{", fetch + "(" + strings.ToLower(name) + ")", "-m"}
	if rest == "" || rest == ".*" {
		cond = append(cond, "found", "}")
	} else {
		cond = append(cond, "reg")
		if icase {
			cond = append(cond, "-i")
		}
		cond = append(cond, rest, "}")
	}
	words := append([]string{side, action}, cond...)
	text := joinWords(words)
	m.emit(ind, text, eol)
	m.change(l, kw, text, "")
}

func arg(a []string, i int) string {
	if i < len(a) {
		return a[i]
	}
	return ""
}

func serverHostOf(addr string) string {
	if strings.HasPrefix(addr, "/") || strings.Contains(addr, "@") || strings.HasPrefix(addr, "[") {
		return ""
	}
	h, _, _ := splitHostPort(addr)
	if h == "" || h == "*" || isIP(h) {
		return ""
	}
	return h
}

// restOf returns a[n:], or nil when a is shorter.
func restOf(a []string, n int) []string {
	if n < len(a) {
		return a[n:]
	}
	return nil
}
