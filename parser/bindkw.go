package parser

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// BindKeywordArgs is the number of words after each of HAProxy 2.6's
// bind keywords, for reading a bind line's options one by one.
var BindKeywordArgs = map[string]int{
	"accept-netscaler-cip": 1, "accept-proxy": 0, "allow-0rtt": 0, "alpn": 1, "backlog": 1,
	"ca-file": 1, "ca-ignore-err": 1, "ca-sign-file": 1, "ca-sign-pass": 1, "ca-verify-file": 1,
	"ciphers": 1, "ciphersuites": 1, "crl-file": 1, "crt-ignore-err": 1, "crt-list": 1, "crt": 1,
	"curves": 1, "defer-accept": 0, "ecdhe": 1, "expose-fd": 1, "force-sslv3": 0, "force-tlsv10": 0,
	"force-tlsv11": 0, "force-tlsv12": 0, "force-tlsv13": 0, "generate-certificates": 0, "gid": 1,
	"group": 1, "id": 1, "interface": 1, "level": 1, "maxconn": 1, "mode": 1, "mss": 1, "name": 1,
	"namespace": 1, "nice": 1, "no-ca-names": 0, "no-sslv3": 0, "no-tls-tickets": 0, "no-tlsv10": 0,
	"no-tlsv11": 0, "no-tlsv12": 0, "no-tlsv13": 0, "npn": 1, "prefer-client-ciphers": 0,
	"process": 1, "proto": 1, "quic-force-retry": 0, "severity-output": 1, "shards": 1,
	"ssl-max-ver": 1, "ssl-min-ver": 1, "ssl": 0, "strict-sni": 0, "tcp-ut": 1, "tfo": 0,
	"thread": 1, "tls-ticket-keys": 1, "transparent": 0, "uid": 1, "user": 1, "verify": 1,
	"v4v6": 0, "v6only": 0,
}

// bindKnown are the bind keywords HAProxy 2.6 knows in the builds it is
// compared with (no QUIC), for the "did you mean" of an unknown one.
var bindKnown = func() []string {
	var out []string
	for k := range BindKeywordArgs {
		if k != "quic-force-retry" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}()

// bindLine is a bind line being read: its address as written, what its
// options set so far that later ones depend on, and where they go.
type bindLine struct {
	addr string
	// kw is the line's keyword in messages: "bind" when empty.
	kw string
	// ids are the listener ids of the proxy so far.
	ids map[int]bindIDRef
	// perms receives the UNIX socket options.
	perms *UnixPerms
	// id is set once the line has set a listener id.
	id bool
	// tgroup and thread are the thread group and whether "thread" set
	// threads, as bind_parse_thread keeps them.
	tgroup int
	thread bool
}

// bindResult is what reading one bind option finds.
type bindResult struct {
	// arg is the option's argument, "" when it takes none or it is
	// missing.
	arg string
	// unknown is set for a keyword HAProxy does not know; best is the
	// closest one, "" when none is close enough.
	unknown bool
	best    string
	// msg is the keyword's message, a warning when warn is set; before,
	// an alert of its own the keyword printed first, with no position.
	msg    string
	warn   bool
	before string
}

// bindOptionChecked reads option opts[i] of a bind line in a proxy or
// peers section, and reports its message as bind_parse_args_list()
// does; false after an alert.
func (c *pctx) bindOptionChecked(opts []string, i int, line *bindLine) (bindResult, bool) {
	kw := line.kw
	if kw == "" {
		kw = "bind"
	}
	pre := fmt.Sprintf("'%s %s' in section '%s'", kw, line.addr, c.cp.section)
	r := c.bindOption(opts, i, line)
	switch {
	case r.unknown && r.best != "":
		c.alert("%s: unknown keyword '%s'; did you mean '%s' maybe ?", pre, opts[i], r.best)
		return r, false
	case r.unknown:
		c.alert("%s: unknown keyword '%s'.", pre, opts[i])
		return r, false
	case r.warn:
		c.warn("%s : %s", pre, r.msg)
	case r.msg != "":
		if r.before != "" {
			d := alertf(c.pos, "%s", r.before)
			d.Style = StyleNone
			c.cp.add(d)
		}
		// indent_msg() drops a final newline.
		c.alert("%s : %s", pre, strings.TrimSuffix(r.msg, "\n"))
		return r, false
	}
	return r, true
}

// bindOption reads option opts[i] of a bind line (or of a stats socket)
// as bind_parse_args_list() hands it to its keyword's parser.
func (c *pctx) bindOption(opts []string, i int, line *bindLine) bindResult {
	o := opts[i]
	n, known := BindKeywordArgs[o]
	if !known || o == "quic-force-retry" {
		return bindResult{unknown: true, best: bestMatch(o, bindKnown)}
	}
	r := bindResult{}
	if n > 0 && i+1 < len(opts) {
		r.arg = opts[i+1]
	}
	switch o {
	case "mode", "uid", "gid", "user", "group":
		r.msg = bindUnixOptions(line.perms, opts[i:min(i+2, len(opts))])
		return r
	case "crt":
		if r.arg == "" {
			break
		}
		f := r.arg
		if base := c.cp.cfg.Global.CrtBase; base != "" && !strings.HasPrefix(f, "/") {
			f = base + "/" + f
		}
		if _, err := os.Stat(f); err != nil && !isBundle(f) {
			r.msg = fmt.Sprintf("unable to stat SSL certificate from file '%s' : %s.\n", f, errnoText(err))
			return r
		}
	case "maxconn":
		// bind_parse_maxconn
		if r.arg == "" {
			r.msg = "'maxconn' : missing value"
		} else if v := Atol(r.arg); v < 0 {
			r.msg = fmt.Sprintf("'maxconn' : invalid value %d, must be >= 0", v)
		}
		return r
	case "mss":
		// bind_parse_mss
		if r.arg == "" {
			r.msg = "'mss' : missing MSS value"
		} else if v := Atol(r.arg); v == 0 || v > 65535 || v < -65535 {
			r.msg = "'mss' : expects an MSS with and absolute value between 1 and 65535"
		}
		return r
	case "interface":
		if r.arg == "" {
			r.msg = "'interface' : missing interface name"
		}
		return r
	case "namespace":
		// bind_parse_namespace opens it, and prints its own alert.
		if r.arg != "" && !netnsExists(r.arg) {
			r.before = fmt.Sprintf("Cannot open namespace '%s'.", r.arg)
			r.msg = "error encountered while processing 'namespace'."
			return r
		}
	case "nice":
		// bind_parse_nice
		if r.arg == "" {
			r.msg = "'nice' : missing value"
		} else if v := catoi(r.arg); v < -1024 || v > 1024 {
			r.msg = fmt.Sprintf("'nice' : invalid value %d, allowed range is -1024..1024", v)
		}
		return r
	}
	if r.msg = c.bindFileError(o, r.arg); r.msg != "" {
		return r
	}
	r.msg, r.warn = bindOptionError(o, r.arg, line.addr, c.pos, line.ids, line)
	return r
}

// bindIDRef is where a listener id was declared, for duplicates.
type bindIDRef struct {
	pos  Pos
	addr string
}

// bindOptionError returns HAProxy's message for bind option o (whose value
// is val, "" when missing) of a bind line on address addr, as the
// keyword's bind_parse_* function words it (src/listener.c, cli.c,
// cfgparse-tcp.c, cfgparse-ssl.c); warn is set for a warning, after
// which the line is read on. line is what the line set before, ids are
// the proxy's listener ids so far.
func bindOptionError(o, val, addr string, pos Pos, ids map[int]bindIDRef, line *bindLine) (msg string, warn bool) {
	missing := map[string]string{
		"accept-netscaler-cip": "missing value", "backlog": "missing value", "proto": "missing value",
		"shards": "missing value", "id": "expects an integer argument", "level": "missing level",
		"name": "missing name", "expose-fd": "missing fd type", "severity-output": "missing severity format",
		"alpn": "missing the comma-delimited ALPN protocol suite", "npn": "missing the comma-delimited NPN protocol suite",
		"tcp-ut": "missing TCP User Timeout value", "namespace": "missing namespace id",
		"crt": "missing certificate location", "crt-list": "missing certificate location",
		"ca-file": "missing CAfile path", "ca-verify-file": "missing CAfile path", "ca-sign-file": "missing CAfile path",
		"ca-sign-pass": "missing CAkey password", "ciphers": "missing cipher suite", "ciphersuites": "missing cipher suite",
		"curves": "missing curve suite", "ecdhe": "missing named curve", "crl-file": "missing CRLfile path",
		"verify": "missing verify method", "ssl-min-ver": "missing the ssl/tls version", "ssl-max-ver": "missing the ssl/tls version",
		"ca-ignore-err": "missing error IDs list", "crt-ignore-err": "missing error IDs list",
		"tls-ticket-keys": "missing TLS ticket keys file path",
	}
	if m, ok := missing[o]; ok && val == "" {
		return fmt.Sprintf("'%s' : %s", o, m), false
	}
	switch o {
	case "ca-ignore-err", "crt-ignore-err":
		// bind_parse_ignore_err: "all", or verify error numbers read
		// with atoi, up to OpenSSL's last one in this build.
		if val == "all" {
			break
		}
		for _, part := range strings.Split(val, ",") {
			if code := catoi(part); code <= 0 || code > 94 {
				return fmt.Sprintf("'%s' : ID '%d' out of range (1..94) in error IDs list '%s'", o, code, val), false
			}
		}
	case "accept-netscaler-cip":
		// The value is a uint32_t there: only 0 is refused.
		if v := uint32(Atol(val)); v == 0 {
			return fmt.Sprintf("'%s' : invalid value %d, must be >= 0", o, v), false
		}
	case "backlog":
		if v := Atol(val); v < 0 {
			return fmt.Sprintf("'%s' : invalid value %d, must be > 0", o, v), false
		}
	case "shards":
		if v := catoi(val); val != "by-thread" && (v < 1 || v > 64) {
			return fmt.Sprintf("'%s' : invalid value %d, allowed range is 1..64 or 'by-thread'", o, v), false
		}
	case "id":
		if strings.ContainsAny(addr, ",") || bindPortRange(addr) {
			return fmt.Sprintf("'%s' can only be used with a single socket", o), false
		}
		v64, err := strconv.ParseInt(val, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("'%s' : expects an integer argument, found '%s'", o, val), false
		}
		// strtol's long kept in an int.
		v := int64(int32(v64))
		if v <= 0 {
			return fmt.Sprintf("'%s' : custom id has to be > 0", o), false
		}
		if prev, ok := ids[int(v)]; ok || line.id {
			if !ok {
				// The listener's own entry, re-keyed in place, is found.
				prev = bindIDRef{pos, addr}
			}
			return fmt.Sprintf("'%s' : custom id %d already used at %s:%d ('bind %s')", o, v, prev.pos.File, prev.pos.Line, prev.addr), false
		}
		ids[int(v)] = bindIDRef{pos, addr}
		line.id = true
	case "level":
		if val != "user" && val != "operator" && val != "admin" {
			return fmt.Sprintf("'%s' only supports 'user', 'operator', and 'admin' (got '%s')", o, val), false
		}
	case "expose-fd":
		if val != "listeners" {
			return fmt.Sprintf("'%s' only supports 'listeners' (got '%s')", o, val), false
		}
	case "severity-output":
		if val != "none" && val != "number" && val != "string" {
			return fmt.Sprintf("'%s' only supports 'none', 'number', and 'string' (got '%s')", o, val), false
		}
	case "proto":
		switch val {
		case "h1", "h2", "fcgi", "none":
		default:
			return fmt.Sprintf("'%s' :  unknown MUX protocol '%s'", o, val), false
		}
	case "tcp-ut":
		switch _, r := parseTime(val); r {
		case timeOverflow:
			return fmt.Sprintf("timer overflow in argument '%s' to '%s' (maximum value is 2147483647 ms or ~24.8 days)", val, o), false
		case timeBadChar:
			return fmt.Sprintf("'%s' : expects a positive delay in milliseconds", o), false
		}
	case "process":
		proc, thr, slash := strings.Cut(val, "/")
		if m := processNumberError(proc, 1); m != "" {
			return fmt.Sprintf("'%s' : %s", o, m), false
		}
		if slash {
			if m := processNumberError(thr, 64); m != "" {
				return fmt.Sprintf("'%s' : %s", o, m), false
			}
		}
		msg = fmt.Sprintf("'process %s' on 'bind' lines is deprecated and will be removed in 2.7.", val)
		if slash {
			msg += fmt.Sprintf(" Please use 'thread %s' instead.", thr)
		}
		return msg, true
	case "thread":
		sep, group := val, 0
		if g, rest, ok := strings.Cut(val, "/"); ok {
			if group = Atol(g); group != 1 {
				return fmt.Sprintf("'%s' thread-group number must be between 1 and 1 (was %d)", val, group), false
			}
			sep = rest
		}
		if (line.tgroup != 0 || line.thread) && line.tgroup != group {
			return fmt.Sprintf("'%s' multiple thread-groups are not supported", val), false
		}
		if m := processNumberError(sep, 64); m != "" {
			return fmt.Sprintf("'%s' : %s", sep, m), false
		}
		line.tgroup, line.thread = group, true
	case "verify":
		if val != "none" && val != "optional" && val != "required" {
			return fmt.Sprintf("'%s' : unknown verify method '%s', only 'none', 'optional', and 'required' are supported\n", o, val), false
		}
	case "ssl-min-ver", "ssl-max-ver":
		if !tlsVersion(val) {
			return fmt.Sprintf("'%s' : unknown ssl/tls version", val), false
		}
	}
	return "", false
}

// tlsVersion says v names a protocol version as ssl-min-ver and
// ssl-max-ver take it (methodVersions).
func tlsVersion(v string) bool {
	switch v {
	case "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3":
		return true
	}
	return false
}

// processNumberError is parse_process_number()'s message for a process or
// thread set ("all", "odd", "even", "n", "a-b", "a-") up to max, "" when
// it is valid.
func processNumberError(arg string, max int) string {
	switch arg {
	case "all", "odd", "even":
		return ""
	}
	dash := -1
	for i := 0; i < len(arg); i++ {
		if arg[i] == '-' && dash < 0 {
			dash = i
		} else if arg[i] < '0' || arg[i] > '9' {
			return fmt.Sprintf("'%s' is not a valid number/range.", arg)
		}
	}
	low := uint64(Atol(arg))
	high := low
	if dash >= 0 {
		high = uint64(max)
		if dash+1 < len(arg) {
			high = uint64(Atol(arg[dash+1:]))
		}
	}
	if high < low {
		low, high = high, low
	}
	if low < 1 || low > uint64(max) || high > uint64(max) {
		// With parse_process_number()'s final newline.
		return fmt.Sprintf("'%s' is not a valid number/range. It supports numbers from 1 to %d.\n", arg, max)
	}
	return ""
}

// bindPortRange reports whether a bind address names a port range, which
// makes several listeners.
func bindPortRange(addr string) bool {
	i := strings.LastIndexByte(addr, ':')
	return i >= 0 && strings.Contains(addr[i+1:], "-")
}

// bindFileError returns HAProxy's message for a file a bind option names
// that cannot be opened, "" otherwise; the CA and CRL files also get the
// certificate store's own alert first. A relative CA path is under
// ca-base when one was set before.
func (c *pctx) bindFileError(o, val string) string {
	if val == "" {
		return ""
	}
	switch o {
	case "ca-file", "ca-verify-file", "crl-file":
		f := val
		if base := c.cp.cfg.Global.SSL.CABase; base != "" && !strings.HasPrefix(f, "/") {
			f = base + "/" + f
		}
		if _, err := os.Stat(f); err != nil {
			c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Style: StyleNone,
				Msg: fmt.Sprintf("Couldn't open the ca-file '%s' (%s).", f, errnoText(err))})
			return fmt.Sprintf("'%s' : unable to load %s", o, f)
		}
	case "crt-list":
		f := val
		if base := c.cp.cfg.Global.CrtBase; base != "" && !strings.HasPrefix(f, "/") {
			f = base + "/" + f
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Sprintf("'%s' : cannot open file '%s' : %s", o, f, errnoText(err))
		}
	case "tls-ticket-keys":
		if _, err := LoadTicketKeys(val); err != nil {
			return err.Error()
		}
	}
	return ""
}

// BundleExts are the extensions of a multi-certificate bundle's files,
// in HAProxy's order (SSL_SOCK_KEYTYPE_NAMES).
var BundleExts = []string{"dsa", "ecdsa", "rsa"}

// isBundle says f names a multi-certificate bundle: no file f, but
// f.dsa, f.ecdsa or f.rsa (ssl_sock_load_cert).
func isBundle(f string) bool {
	for _, ext := range BundleExts {
		if _, err := os.Stat(f + "." + ext); err == nil {
			return true
		}
	}
	return false
}
