package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Options control a parse.
type Options struct {
	// Compat rejects legacy 1.x syntax with HAProxy 2.6's own messages
	// instead of accepting it with a warning.
	Compat bool
	// LookupEnv replaces os.LookupEnv for variable expansion.
	LookupEnv func(string) (string, bool)
	// Chdir, when set, changes the process's directory as "default-path"
	// asks, as HAProxy does while it reads (defaultpath.go); unset, the
	// directive is only checked.
	Chdir func(dir string) error
}

// Input is one configuration file's name and contents.
type Input struct {
	Name string
	Data []byte
}

// maxFatal is the number of fatal errors after which HAProxy stops parsing.
const maxFatal = 50

// ReadInputs loads the files named on the command line as HAProxy does: a
// directory contributes its non-hidden "*.cfg" files in byte order.
func ReadInputs(paths []string) ([]Input, error) {
	var out []Input
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("could not open configuration file %s : %w", p, unwrapPathErr(err))
		}
		if !st.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("could not open configuration file %s : %w", p, unwrapPathErr(err))
			}
			out = append(out, Input{Name: p, Data: b})
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("cannot open directory %s : %w", p, unwrapPathErr(err))
		}
		var names []string
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".cfg") || e.IsDir() {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fp := filepath.Join(p, n)
			if !strings.HasSuffix(p, "/") {
				fp = p + "/" + n
			} else {
				fp = p + n
			}
			b, err := os.ReadFile(fp)
			if err != nil {
				return nil, fmt.Errorf("could not open configuration file %s : %w", fp, unwrapPathErr(err))
			}
			out = append(out, Input{Name: fp, Data: b})
		}
	}
	return out, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// chunkTokens is about how many tokens parseTokens gives the grammar at
// once.
const chunkTokens = 4096

// parseTokens runs the grammar over a file's tokens in chunks of whole
// lines, which gives the same lines as one run: the peeking lexer
// copies its tokens one append at a time, and on a large file that
// growth cost more than the parse itself.
func parseTokens(toks []lexer.Token) (*File, error) {
	f := &File{}
	for {
		n := min(len(toks), chunkTokens)
		for n < len(toks) && toks[n-1].Type != tokEOL {
			n++
		}
		pl, err := lexer.Upgrade(&sliceLexer{toks: toks[:n]})
		if err != nil {
			return nil, err
		}
		part, err := grammar.ParseFromLexer(pl)
		if err != nil {
			return nil, err
		}
		f.Lines = append(f.Lines, part.Lines...)
		toks = toks[n:]
		if len(toks) == 0 {
			return f, nil
		}
	}
}

// Parse reads the inputs in order and returns the typed configuration and
// every phase-1 diagnostic (tokenizing and per-line keyword checks), sorted
// as HAProxy prints them.
func Parse(inputs []Input, opts Options) (*Config, Diagnostics) {
	e := newEnv(opts.LookupEnv)
	cp := &cfgParser{opts: opts, cfg: &Config{}, env: e}
	for i, in := range inputs {
		if i > 0 {
			cp.leaveDefaultPath()
		}
		cp.enterDefaultPath(in.Name)
		st := &lexState{env: e, compat: opts.Compat}
		e.file = in.Name
		f, err := parseTokens(st.lexFile(in.Name, in.Data).toks)
		if err != nil {
			// The grammar accepts every token sequence the lexer makes, so
			// this is an internal error; report it rather than panic.
			cp.diags = append(cp.diags, alertf(Pos{File: in.Name}, "internal parser error: %v", err))
			continue
		}
		cp.cfg.Files = append(cp.cfg.Files, f)
		fileDiags := st.diags
		cp.file = in.Name
		cp.section = ""
		cp.proxy = nil
		cp.lineDiags = nil
		stopped := 0
		for _, l := range f.Lines {
			if len(l.Words) == 0 {
				continue
			}
			cp.line(l)
			if cp.fatal >= maxFatal || cp.abort {
				stopped = l.Pos.Line
				break
			}
		}
		if stopped == 0 {
			cp.endCache(Pos{File: in.Name, Line: len(f.Lines) + 1})
			cp.endRing()
		}
		if stopped > 0 {
			// HAProxy never read the lines after the one that stopped it.
			kept := fileDiags[:0]
			for _, d := range fileDiags {
				if d.Pos.Line <= stopped {
					kept = append(kept, d)
				}
			}
			fileDiags = kept
		}
		if st.abort {
			// The lexer stopped at a broken .if block: the lines before it
			// were processed, then reading ends.
			cp.cfg.AbortAfterFile = true
			cp.abort = true
		}
		all := append(fileDiags, cp.lineDiags...)
		sort.SliceStable(all, func(i, j int) bool {
			if all[i].Pos.Line != all[j].Pos.Line {
				return all[i].Pos.Line < all[j].Pos.Line
			}
			return all[i].order < all[j].order
		})
		cp.diags = append(cp.diags, all...)
		if cp.fatal >= maxFatal || cp.abort {
			if cp.cfg.Aborted = cp.abort && !cp.cfg.AbortAfterFile; cp.cfg.Aborted {
				cp.cfg.AbortedIn = in.Name
			}
			break
		}
	}
	return cp.cfg, cp.diags
}

// cfgParser walks AST lines and dispatches them to section parsers.
type cfgParser struct {
	opts      Options
	cfg       *Config
	diags     Diagnostics
	lineDiags Diagnostics
	file      string
	section   string
	// proxy is the proxy being filled, nil after a failed section header.
	proxy *Proxy
	// dp is the default-path state.
	dp defaultPath
	// defaults is the last anonymous defaults section; named ones are found
	// by name.
	defaults *Proxy
	fatal    int
	// byName indexes proxies by name for the duplicate check.
	byName map[string][]*Proxy
	// abort stops parsing at once, as HAProxy does for a few errors.
	abort bool
	// env expands the variables of addresses (str2sa_range).
	env *env
	// cache is the cache section being read (cache.go).
	cache *Cache
	// ring is the ring section being read (ring.go), nil after a failed
	// header.
	ring *Ring
	// program is the program section being read.
	program *Program
	// userlist is the userlist declared last, which user and group
	// lines go to (HAProxy's list head).
	userlist *Userlist
	// fcgi is the fcgi-app section being read (fcgi.go).
	fcgi *FCGIApp
	// statsIDs are the listener ids of the stats sockets.
	statsIDs map[int]bindIDRef
	// patRefIDs are the pattern reference ids ACLs set with "-u".
	patRefIDs map[int]bool
	// global is what some global lines leave for the next ones.
	global globalState
}

func (cp *cfgParser) add(d Diagnostic) {
	if d.Fatal {
		cp.fatal++
	}
	cp.lineDiags = append(cp.lineDiags, d)
}

// sectionKeywords are the keywords that open a section.
var sectionKeywords = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true, "listen": true,
	"userlist": true, "peers": true, "resolvers": true, "mailers": true, "http-errors": true,
	"ring": true, "log-forward": true, "program": true, "cache": true, "fcgi-app": true,
	"namespace_list": true,
}

func isSectionKeyword(w string) bool { return sectionKeywords[w] }

func (cp *cfgParser) line(l *Line) {
	args := l.Args()
	pos := Pos{File: cp.file, Line: l.Pos.Line, Col: l.Words[0].Pos.Column}
	if isSectionKeyword(args[0]) {
		cp.openSection(args, pos)
		return
	}
	mod := ""
	if args[0] == "no" || args[0] == "default" {
		mod = args[0]
		args = args[1:]
		if len(args) == 0 {
			args = []string{""}
		}
		if cp.section == "global" && mod == "default" {
			// HAProxy's shift leaves the last word in place: "default
			// busy-polling" reads as "busy-polling busy-polling", and a
			// lone "default" stays the keyword.
			args = append(args, args[len(args)-1])
			if args[0] == "" {
				args = []string{"default"}
			}
		}
		switch args[0] {
		case "option", "log", "busy-polling", "set-dumpable", "strict-limits", "insecure-fork-wanted", "numa-cpu-mapping":
		default:
			cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
				Msg: "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping."})
			// The global keyword is still read.
			if cp.section != "global" {
				return
			}
		}
	}
	switch cp.section {
	case "":
		cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("unknown keyword '%s' out of section.", args[0])})
	case "global":
		cp.globalLine(args, mod, pos)
	case "defaults", "frontend", "backend", "listen":
		cp.proxyLine(args, mod, pos)
	case "fcgi-app":
		cp.fcgiLine(&pctx{cp: cp, pos: pos, mod: mod, args: args})
	case "program":
		cp.programLine(&pctx{cp: cp, pos: pos, mod: mod, args: args})
	default:
		cp.otherLine(args, pos)
	}
}

func (cp *cfgParser) directive(pos Pos, kw string, args []string, s Support, legacy bool) *Directive {
	name := ""
	if cp.proxy != nil {
		name = cp.proxy.Name
	}
	d := &Directive{Pos: pos, Section: cp.section, Name: name, Keyword: kw, Args: args, Support: s, Legacy: legacy}
	cp.cfg.Directives = append(cp.cfg.Directives, d)
	return d
}

func (cp *cfgParser) openSection(args []string, pos Pos) {
	kw := args[0]
	cp.endCache(pos)
	cp.endRing()
	cp.fcgi = nil
	cp.program = nil
	cp.section = kw
	cp.proxy = nil
	switch kw {
	case "global":
		if cp.cfg.Global.Pos.Line == 0 {
			cp.cfg.Global.Pos = pos
		}
		if len(args) > 1 {
			cp.add(alertf(pos, "'%s' cannot handle unexpected argument '%s'.", kw, args[1]))
		}
	case "defaults", "frontend", "backend", "listen":
		cp.openProxy(args, pos)
	default:
		switch kw {
		case "http-errors":
			if !cp.openHTTPErrors(args, pos) {
				return
			}
		case "resolvers":
			if !cp.openResolvers(args, pos) {
				return
			}
		case "cache":
			if !cp.openCache(args, pos) {
				return
			}
		case "fcgi-app":
			cp.openFCGIApp(args, pos)
		case "peers":
			if !cp.openPeers(args, pos) {
				return
			}
		case "ring":
			cp.openRing(args, pos)
		case "program":
			cp.openProgram(args, pos)
		case "userlist":
			cp.openUserlist(args, pos)
		case "namespace_list":
			// Its arguments are ignored, as cfg_parse_netns ignores them.
		case "mailers":
			if len(args) < 2 {
				// HAProxy stops reading the file here.
				cp.add(alertf(pos, "missing name for %s section.", kw))
				cp.cfg.AbortAfterFile = true
				cp.abort = true
				return
			}
		}
		s := &Section{Pos: pos, Kind: kw}
		if len(args) > 1 {
			s.Name = args[1]
		}
		cp.cfg.Sections = append(cp.cfg.Sections, s)
		cp.directive(pos, kw, args[1:], sectionSupport(kw), false)
	}
}

func sectionSupport(kw string) Support {
	switch kw {
	case "mailers", "log-forward":
		return Unsupported
	}
	return Supported
}

// nulTruncated is HAProxy's message for a name made of nothing: it prints
// the empty name's NUL terminator as the offending character, which ends
// the line there.
func nulTruncated(pos Pos) Diagnostic {
	d := alertf(pos, "character '")
	d.Truncated = true
	return d
}

// invalidChar returns the first byte outside [A-Za-z0-9_:.-], as HAProxy's
// invalid_char, or -1.
func invalidChar(s string) int {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != ':' && c != '_' && c != '-' {
			return i
		}
	}
	return -1
}

func (cp *cfgParser) openProxy(args []string, pos Pos) {
	kw := args[0]
	name := ""
	if len(args) > 1 {
		name = args[1]
	}
	if kw != "defaults" && name == "" {
		cp.add(alertf(pos, "'%s' expects an <id> argument", kw))
		cp.cfg.AbortAfterFile = true
		cp.abort = true
		return
	}
	if kw == "defaults" && name == "from" {
		name = ""
		args = append([]string{kw, ""}, args[1:]...)
	}
	if name != "" {
		if i := invalidChar(name); i >= 0 {
			cp.add(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", name[i], kw, name))
			return
		}
	}
	p := newProxy(kw, name, pos)
	var extra []string
	if len(args) > 2 {
		extra = args[2:]
	}
	from := ""
	if len(extra) >= 2 && extra[0] == "from" {
		from = extra[1]
		extra = extra[2:]
	}
	if len(extra) > 0 {
		if kw == "defaults" || cp.opts.Compat {
			if p.Cap&CapFE != 0 && kw != "defaults" {
				cp.add(alertf(pos, "please use the 'bind' keyword for listening addresses."))
			}
			cp.section = kw
			cp.proxy = nil
			return
		}
		if kw == "backend" {
			// HAProxy 1.x gave backends a dispatch address on this line.
			cp.add(legacyWarn(pos, "an address on the 'backend' line", "use 'server' lines in the backend"))
			cp.directive(pos, "dispatch", extra, Unsupported, true)
		} else {
			addr := strings.Join(extra, " ")
			cp.add(legacyWarn(pos, fmt.Sprintf("the address on the '%s' line", kw), fmt.Sprintf("'bind %s' inside the section", addr)))
			for _, a := range strings.Split(addr, ",") {
				p.Binds = append(p.Binds, Bind{Pos: pos, Address: strings.TrimSpace(a)})
			}
			cp.directive(pos, "bind", extra, Supported, true)
		}
	}
	if kw != "defaults" {
		if cp.byName == nil {
			cp.byName = map[string][]*Proxy{}
		}
		for _, q := range cp.byName[name] {
			if q.Cap&p.Cap&(CapFE|CapBE) != 0 {
				cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleNone,
					Msg: fmt.Sprintf("Parsing [%s:%d]: %s '%s' has the same name as %s '%s' declared at %s:%d.", pos.File, pos.Line, kw, name, q.Kind, q.Name, q.Pos.File, q.Pos.Line)})
				break
			}
		}
		cp.byName[name] = append(cp.byName[name], p)
	}
	var def *Proxy
	if from != "" {
		for i := len(cp.cfg.Defaults) - 1; i >= 0; i-- {
			if cp.cfg.Defaults[i].Name == from {
				def = cp.cfg.Defaults[i]
				break
			}
		}
		if def == nil {
			cp.add(alertf(pos, "defaults section '%s' not found for %s '%s'.", from, kw, name))
		}
		p.From = from
	} else if kw != "defaults" {
		// A defaults section without "from" starts from built-in values.
		def = cp.defaults
	}
	if def != nil && def.hasRules {
		// HAProxy runs a defaults section's rules for its frontends or
		// for its backends, not both, and never for a defaults or
		// listen section.
		msg := ""
		at := fmt.Sprintf(" (defaults section at %s:%d).", def.Pos.File, def.Pos.Line)
		var l4l5, tcpRsp bool
		for _, r := range def.TCPRequests {
			l4l5 = l4l5 || !r.Response && (r.Stage == "connection" || r.Stage == "session")
			tcpRsp = tcpRsp || r.Response && r.Stage == "content"
		}
		switch {
		case kw == "defaults":
			msg = "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules" + at
		case p.Cap&CapFE != 0 && p.Cap&CapBE != 0:
			msg = "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."
		case p.Cap&CapFE != 0 && def.usedByBE || p.Cap&CapBE != 0 && def.usedByFE:
			msg = "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules" + at
		case p.Cap&CapFE == 0 && l4l5:
			msg = "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules" + at
		case p.Cap&CapBE == 0 && tcpRsp:
			msg = "a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules" + at
		default:
			def.usedByFE = def.usedByFE || p.Cap&CapFE != 0
			def.usedByBE = def.usedByBE || p.Cap&CapBE != 0
		}
		if msg != "" {
			cp.abortTight(pos, msg)
		}
	}
	if def != nil && (p.Cap&CapBE != 0 || kw == "defaults") && len(def.Log.ReqCaps)+len(def.Log.RspCaps) > 0 {
		cp.abortTight(pos, "backend or defaults sections cannot inherit from a defaults section defining capptures"+
			fmt.Sprintf(" (defaults section at %s:%d).", def.Pos.File, def.Pos.Line))
	}
	p.inherit(def)
	p.Def = def
	cp.proxy = p
	if kw == "defaults" {
		cp.cfg.Defaults = append(cp.cfg.Defaults, p)
		cp.defaults = p
	} else {
		cp.cfg.Proxies = append(cp.cfg.Proxies, p)
	}
}

// abortTight adds one of HAProxy's "parsing [file:line]:" alerts that
// stop the reading after the current file (ERR_ABORT).
func (cp *cfgParser) abortTight(pos Pos, msg string) {
	d := alertf(pos, "%s", msg)
	d.Style = StyleParsingTight
	cp.add(d)
	cp.cfg.AbortAfterFile = true
	cp.abort = true
}

// legacyWarn is the default-mode diagnostic for 1.x syntax that gohap runs
// with its 1.x meaning.
func legacyWarn(pos Pos, what, modern string) Diagnostic {
	return Diagnostic{Severity: Warning, Pos: pos,
		Msg:  fmt.Sprintf("%s is legacy 1.x syntax that HAProxy 2.6 rejects; gohap accepts it with its 1.x meaning. Modern form: %s.", what, modern),
		Hint: modern}
}
