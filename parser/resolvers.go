package parser

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Resolvers is a "resolvers" section (configuration.txt 5.3.2). Zero
// values take HAProxy's defaults when the runtime starts the section.
type Resolvers struct {
	Pos  Pos
	Name string
	// Nameservers are the "nameserver" lines, in order.
	Nameservers []Nameserver
	// ResolvConf is the position of a "parse-resolv-conf" line (Line 0
	// when absent): the nameservers of /etc/resolv.conf come after the
	// first ResolvConfAt nameservers.
	ResolvConf   Pos
	ResolvConfAt int
	// AcceptedPayloadSize and ResolveRetries are 0 when not set.
	AcceptedPayloadSize, ResolveRetries int
	// TimeoutResolve and TimeoutRetry are nil when not set.
	TimeoutResolve, TimeoutRetry *time.Duration
	// Hold maps "valid", "nx", "refused", "timeout", "other" and
	// "obsolete" to their "hold" period; an absent status keeps its default.
	Hold map[string]time.Duration
}

// Nameserver is a "nameserver <id> <address>" line; Address is as written
// with its variables expanded ("ip:port", "udp@", "tcp@", a host name
// resolved at start...).
type Nameserver struct {
	Pos     Pos
	ID      string
	Address string
}

// resolversKeywords is the keyword table of resolvers sections
// (src/resolvers.c cfg_parse_resolvers).
var resolversKeywords = map[string]func(c *pctx, r *Resolvers){
	"nameserver":            kwNameserver,
	"parse-resolv-conf":     func(c *pctx, r *Resolvers) { r.ResolvConf, r.ResolvConfAt = c.pos, len(r.Nameservers) },
	"hold":                  kwHold,
	"accepted_payload_size": kwPayloadSize,
	"resolve_retries":       kwResolveRetries,
	"timeout":               kwResolversTimeout,
	"resolution_pool_size": func(c *pctx, _ *Resolvers) {
		c.alert("'%s' directive is not supported anymore (it never appeared in a stable release).", c.args[0])
	},
}

// resolversKeywordNames lists the keywords of a resolvers section, without
// the one HAProxy only rejects.
func resolversKeywordNames() []string {
	out := make([]string, 0, len(resolversKeywords))
	for n := range resolversKeywords {
		if n != "resolution_pool_size" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// openResolvers starts a resolvers section; it reports whether parsing
// goes on (HAProxy stops at a bad or duplicate name).
func (cp *cfgParser) openResolvers(args []string, pos Pos) bool {
	if len(args) < 2 || args[1] == "" {
		// HAProxy stops reading the file here.
		cp.add(alertf(pos, "missing name for resolvers section."))
		cp.cfg.AbortAfterFile = true
		cp.abort = true
		return false
	}
	if i := invalidChar(args[1]); i >= 0 {
		cp.add(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", args[1][i], args[0], args[1]))
		cp.cfg.AbortAfterFile = true
		cp.abort = true
		return false
	}
	for _, r := range cp.cfg.Resolvers {
		if r.Name == args[1] {
			d := alertf(pos, "resolvers '%s' has same name as another resolvers (declared at %s:%d).", args[1], r.Pos.File, r.Pos.Line)
			d.Msg = fmt.Sprintf("Parsing [%s:%d]: %s", pos.File, pos.Line, d.Msg)
			d.Style = StyleNone
			cp.add(d)
			// HAProxy's error path then reports a failed allocation.
			cp.add(alertf(pos, "out of memory."))
			cp.cfg.AbortAfterFile = true
			cp.abort = true
			return false
		}
	}
	cp.cfg.Resolvers = append(cp.cfg.Resolvers, &Resolvers{Pos: pos, Name: args[1]})
	return true
}

// resolversLine reads a line of a resolvers section.
func (cp *cfgParser) resolversLine(c *pctx) {
	r := cp.cfg.Resolvers[len(cp.cfg.Resolvers)-1]
	kw, ok := resolversKeywords[c.args[0]]
	if !ok {
		c.alert("unknown keyword '%s' in '%s' section", c.args[0], cp.section)
		return
	}
	cp.directive(c.pos, c.args[0], c.args[1:], Supported, false)
	kw(c, r)
}

func kwNameserver(c *pctx, r *Resolvers) {
	if c.arg(2) == "" {
		c.alert("'%s' expects <name> and <addr>[:<port>] as arguments.", c.args[0])
		return
	}
	id := c.arg(1)
	if i := invalidChar(id); i >= 0 {
		c.alert("character '%c' is not permitted in server name '%s'.", id[i], id)
		return
	}
	for _, ns := range r.Nameservers {
		if ns.ID == id {
			d := alertf(c.pos, "Parsing [%s:%d]: nameserver '%s' has same name as another nameserver (declared at %s:%d).",
				c.pos.File, c.pos.Line, id, ns.Pos.File, ns.Pos.Line)
			d.Style = StyleNone
			c.cp.add(d)
		}
	}
	// str2sa_range expands variables, then reports the expanded address.
	addr := c.cp.env.expandUnquoted(c.arg(2))
	if msg, blank := checkNameserverAddress(addr); msg != "" {
		d := alertf(c.pos, "'%s %s' : %s", c.args[0], id, msg)
		if blank {
			// The message of str2sa_range ends with a newline of its own.
			d.Detail = []string{""}
		}
		c.cp.add(d)
		return
	}
	r.Nameservers = append(r.Nameservers, Nameserver{Pos: c.pos, ID: id, Address: addr})
}

// checkNameserverAddress is str2sa_range with a mandatory port, no range
// and no offset; blank reports the messages HAProxy ends with a newline.
func checkNameserverAddress(a string) (msg string, blank bool) {
	switch {
	case strings.HasPrefix(a, "fd@"):
		return fmt.Sprintf("a file descriptor is not acceptable here in '%s'", a), true
	case strings.HasPrefix(a, "/"), strings.HasPrefix(a, "unix@"), strings.HasPrefix(a, "abns@"):
		return "", false
	}
	s := a
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	host, port, ok := splitHostPort(s)
	if !ok || port == "" {
		return fmt.Sprintf("missing port specification in '%s'", a), false
	}
	switch {
	case strings.Contains(port, "-"):
		return fmt.Sprintf("port range not permitted here in '%s'", a), false
	case port[0] == '+':
		return fmt.Sprintf("port offset not permitted here in '%s'", a), false
	}
	if msg := checkPortRange(port, a); msg != "" {
		return msg, strings.HasPrefix(msg, "invalid character")
	}
	if host == "" || host == "*" || isIP(host) || isInetAton(host) || resolvable(host) {
		return "", false
	}
	return fmt.Sprintf("invalid address: '%s' in '%s'", host, a), true
}

// resolversTime reads a time argument as parse_time_err, with HAProxy's
// messages naming the argument and the keyword.
func resolversTime(c *pctx, v, what, kw string) (time.Duration, bool) {
	return c.tightTime(v, what, kw, "unexpected character '%c' in argument to <%s>.")
}

// tightTime reads the time value v of keyword kw as parse_time_err, with
// the "parsing [FILE:LINE]:" alerts of global and resolvers keywords,
// naming the argument what; bad is the message for a bad character,
// given the character and kw.
func (c *pctx) tightTime(v, what, kw, bad string) (time.Duration, bool) {
	c.warnTimer(v)
	d, res := parseTime(v)
	switch res {
	case timeOverflow:
		c.tight("timer overflow in argument <%s> to <%s>, maximum value is 2147483647 ms (~24.8 days).", what, kw)
	case timeUnderflow:
		c.tight("timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", what, kw)
	case timeBadChar:
		c.tight(bad, badTimeChar(v), kw)
	default:
		return d, true
	}
	return 0, false
}

var holdStatuses = map[string]bool{"nx": true, "other": true, "refused": true, "timeout": true, "valid": true, "obsolete": true}

func kwHold(c *pctx, r *Resolvers) {
	if c.arg(2) == "" {
		c.alert("'%s' expects an <event> and a <time> as arguments.", c.args[0])
		// A second alert line, without position.
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Style: StyleNone, Msg: "<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'"})
		return
	}
	d, ok := resolversTime(c, c.arg(2), c.arg(1), c.args[0])
	if !ok {
		return
	}
	if !holdStatuses[c.arg(1)] {
		c.alert("'%s' unknown <event>: '%s', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'.", c.args[0], c.arg(1))
		return
	}
	if r.Hold == nil {
		r.Hold = map[string]time.Duration{}
	}
	r.Hold[c.arg(1)] = d
}

func kwPayloadSize(c *pctx, r *Resolvers) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <nb> as argument.", c.args[0])
		return
	}
	// DNS_HEADER_SIZE and DNS_MAX_UDP_MESSAGE.
	n := Atol(c.arg(1))
	if n < 12 || n > 65535 {
		c.alert("'%s' must be between %d and %d inclusive (was %s).", c.args[0], 12, 65535, c.arg(1))
		return
	}
	r.AcceptedPayloadSize = n
}

func kwResolveRetries(c *pctx, r *Resolvers) {
	if c.arg(1) == "" {
		c.alert("'%s' expects <nb> as argument.", c.args[0])
		return
	}
	r.ResolveRetries = Atol(c.arg(1))
}

func kwResolversTimeout(c *pctx, r *Resolvers) {
	which := c.arg(1)
	switch which {
	case "":
		c.alert("'%s' expects 'retry' or 'resolve' and <time> as arguments.", c.args[0])
		return
	case "retry", "resolve":
	default:
		c.alert("'%s' expects 'retry' or 'resolve' and <time> as arguments got '%s'.", c.args[0], which)
		return
	}
	if c.arg(2) == "" {
		c.alert("'%s %s' expects <time> as argument.", c.args[0], which)
		return
	}
	d, ok := resolversTime(c, c.arg(2), c.arg(2), c.args[0]+" "+which)
	if !ok {
		return
	}
	if which == "retry" {
		r.TimeoutRetry = &d
	} else {
		r.TimeoutResolve = &d
	}
}

// ResolversByName returns the resolvers section called name, nil if none.
func (cfg *Config) ResolversByName(name string) *Resolvers {
	for _, r := range cfg.Resolvers {
		if r.Name == name {
			return r
		}
	}
	return nil
}
