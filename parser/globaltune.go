package parser

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Global settings without effect on what gohap runs: they are read only
// to give HAProxy's parse-time verdicts on their arguments.

// globalState is what HAProxy remembers between global lines that gohap
// keeps nowhere else.
type globalState struct {
	clusterSecret bool
	// providerPath is ssl-provider-path, where OpenSSL looks for
	// providers.
	providerPath string
	// threadGroup is the group of each thread (1..maxThreads), 0 when
	// none; tgBase (the first thread's index) and tgCount are group 1's
	// extent, as ha_tgroup_info.
	threadGroup     [maxThreads]int64
	tgBase, tgCount int
}

// HAProxy 2.6's build limits.
const (
	maxTGroups         = 1
	maxThreads         = 64
	maxThreadsPerGroup = 64
)

func init() {
	h := func(f func(c *pctx), kws ...string) {
		for _, k := range kws {
			globalKeywords[k] = keyword{support: Harmless, handle: f}
		}
	}
	// busy-polling shows in show info (BusyPolling) and in the process's
	// CPU use: gohap does not spin, so run refuses it.
	globalKeywords["busy-polling"] = keyword{support: Unsupported, handle: func(c *pctx) {
		if !c.tooMany(0) && c.mod == "no" {
			c.setSupport(Harmless)
		}
	}}
	h(func(c *pctx) { c.tooMany(0) }, "noepoll", "nokqueue", "noevports", "nopoll",
		"nogetaddrinfo", "no-memory-trimming")
	globalKeywords["set-dumpable"] = keyword{support: Supported, handle: func(c *pctx) {
		if !c.tooMany(0) {
			c.cp.cfg.Global.SetDumpable = c.mod != "no"
		}
	}}
	h(func(c *pctx) {
		if !c.tooMany(1) {
			needInt(c)
		}
	}, "tune.buffers.limit", "tune.buffers.reserve")
	h(globalIdleTimer, "tune.idletimer")
	h(func(c *pctx) {
		if c.arg(1) == "" || catoi(c.arg(1)) < 0 {
			c.alert("'%s' expects a positive numeric value", c.args[0])
		}
	}, "tune.pattern.cache-size")
	h(globalClusterSecret, "cluster-secret")
	h(func(c *pctx) {
		if n := catoi(c.arg(1)); !c.tooMany(1) && (n < 0 || n > 100) {
			c.alert("'%s' expects a numeric value between 0 and 100.", c.args[0])
		}
	}, "tune.fail-alloc")
	h(func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		switch c.arg(1) {
		case "on", "auto", "off":
		default:
			c.alert("'%s' expects either 'on', 'auto', or 'off' but got '%s'.", c.args[0], c.arg(1))
		}
	}, "profiling.tasks")
	h(globalOnOff, "tune.listener.multi-queue", "tune.sched.low-latency")
	h(func(c *pctx) {
		if !c.cp.cfg.Global.Experimental {
			c.alert("'%s' directive is experimental, must be allowed via a global 'expose-experimental-directives'", c.args[0])
			return
		}
		globalOnOff(c)
	}, "tune.fd.edge-triggered")
	for k, f := range map[string]func(*Global) *int{
		"tune.pool-high-fd-ratio": func(g *Global) *int { return &g.PoolHighRatio },
		"tune.pool-low-fd-ratio":  func(g *Global) *int { return &g.PoolLowRatio },
	} {
		globalKeywords[k] = keyword{support: Supported, handle: func(c *pctx) {
			n := argInt(c, 1)
			if c.tooMany(1) {
				return
			}
			if n < 0 || n > 100 {
				c.alert("'%s' expects an integer argument between 0 and 100.", c.args[0])
				return
			}
			// Kept plus one: 0 means the default.
			*f(&c.cp.cfg.Global) = int(n) + 1
		}}
	}
	h(func(c *pctx) {
		if !c.tooMany(1) && argInt(c, 1) < 1 {
			c.alert("'%s' expects an integer argument greater than 0.", c.args[0])
		}
	}, "tune.peers.max-updates-at-once")
	h(globalThreadGroups, "thread-groups")
	h(globalThreadGroup, "thread-group")
	h(globalLuaTimeout, "tune.lua.session-timeout", "tune.lua.task-timeout", "tune.lua.service-timeout")
	h(func(c *pctx) {
		if _, ok := strtol10(c.arg(1)); !ok {
			c.alert("%s: invalid number", c.args[0])
		}
	}, "tune.lua.forced-yield")
	h(func(c *pctx) {
		v := c.arg(1)
		if v == "" {
			c.alert("'%s' expects an integer argument (Lua memory size in MB).", c.args[0])
			return
		}
		if _, end := strtolEnd(v); end < len(v) {
			c.alert("%s: invalid number %s (error at '%c')", c.args[0], v, v[end])
		}
	}, "tune.lua.maxmem")
	h(func(c *pctx) {
		switch {
		case c.tooMany(2):
		case c.arg(1) == "":
			c.alert("'%s' expects to receive a <path> as argument", c.args[0])
		case c.arg(2) != "" && c.arg(2) != "path" && c.arg(2) != "cpath":
			c.alert("'%s' expects <type> to either be 'path' or 'cpath'", c.args[0])
		}
	}, "lua-prepend-path")
	// Only the missing argument: the value itself is OpenSSL's to judge,
	// but for the providers it loads.
	for k, what := range map[string]string{
		"ssl-propquery":     "a property string",
		"ssl-provider":      "a valid engine provider name",
		"ssl-provider-path": "a directory path",
	} {
		h(func(c *pctx) {
			switch {
			case c.arg(1) == "":
				c.alert("global statement '%s' expects %s as an argument.", c.args[0], what)
			case k == "ssl-provider-path":
				c.cp.global.providerPath = c.arg(1)
			case k == "ssl-provider" && !sslProviderExists(c.arg(1), c.cp.global.providerPath):
				// OpenSSL's message, then HAProxy's empty one.
				c.cp.add(Diagnostic{Severity: Alert, Fatal: true, Pos: c.pos, Style: StyleNone, Msg: fmt.Sprintf("%s %s: unknown provider", c.args[0], c.arg(1))})
				c.alert("(null)")
			}
		}, k)
	}
	// The resolvers and CA file are looked up when the HTTP client starts
	// (runtime.Check): gohap has no HTTP client otherwise.
	hc := func(c *pctx) *HTTPClient { return &c.cp.cfg.Global.HTTPClient }
	h(func(c *pctx) {
		if !c.tooMany(1) {
			hc(c).ResolversID, hc(c).ResolversSet = c.arg(1), true
		}
	}, "httpclient.resolvers.id")
	h(func(c *pctx) {
		if !c.tooMany(1) {
			hc(c).CAFile, hc(c).CAFileSet, hc(c).SSLSet = c.arg(1), true, true
		}
	}, "httpclient.ssl.ca-file")
	prefer := httpClientChoice("'ipv4' or 'ipv6'", "ipv4", "ipv6")
	h(func(c *pctx) {
		prefer(c)
		hc(c).ResolversSet = true
	}, "httpclient.resolvers.prefer")
	verify := httpClientChoice("'none' or 'required'", "none", "required")
	h(func(c *pctx) {
		verify(c)
		hc(c).SSLSet = true
		hc(c).VerifyNone = c.arg(1) == "none"
	}, "httpclient.ssl.verify")
}

// globalOnOff is the "on"/"off" setting of cfg_parse_tune_*.
func globalOnOff(c *pctx) {
	if !c.tooMany(1) && c.arg(1) != "on" && c.arg(1) != "off" {
		c.alert("'%s' expects either 'on' or 'off' but got '%s'.", c.args[0], c.arg(1))
	}
}

// argInt is argument i read by atoi, -1 when it is empty.
func argInt(c *pctx, i int) int32 {
	if c.arg(i) == "" {
		return -1
	}
	return catoi(c.arg(i))
}

// httpClientChoice checks a one-of-two httpclient setting; HAProxy alerts
// itself and then prints its unset error message as "(null)".
func httpClientChoice(what, a, b string) func(c *pctx) {
	return func(c *pctx) {
		if !c.tooMany(1) && c.arg(1) != a && c.arg(1) != b {
			c.alert("'%s' expects %s as argument.", c.args[0], what)
			c.alert("(null)")
		}
	}
}

func globalIdleTimer(c *pctx) {
	kw, v := c.args[0], c.arg(1)
	if c.tooMany(1) {
		return
	}
	if v == "" {
		c.alert("'%s' expects a timer value between 0 and 65535 ms.", kw)
		return
	}
	c.warnTimer(v)
	d, res := parseTime(v)
	switch {
	case res == timeOverflow:
		c.tight("timer overflow in argument <%s> to <%s>, maximum value is 65535 ms.", v, kw)
	case res == timeUnderflow:
		c.tight("timer underflow in argument <%s> to <%s>, minimum non-null value is 1 ms.", v, kw)
	case res == timeBadChar:
		c.tight("unexpected character '%c' in argument to <%s>.", badTimeChar(v), kw)
	case d.Milliseconds() > 65535:
		c.alert("'%s' expects a timer value between 0 and 65535 ms.", kw)
	}
}

func globalClusterSecret(c *pctx) {
	st := &c.cp.global
	switch {
	case c.tooMany(1):
	case c.arg(1) == "":
		c.alert("expects an ASCII string argument.")
	case st.clusterSecret:
		// Not fatal: the first secret stays.
		c.cp.add(Diagnostic{Severity: Alert, Pos: c.pos, Msg: fmt.Sprintf("'%s' already specified. Continuing.", c.args[0])})
	default:
		st.clusterSecret = true
	}
}

// globalLuaTimeout is hlua_read_timeout.
func globalLuaTimeout(c *pctx) {
	kw, v := c.args[0], c.arg(1)
	c.warnTimer(v)
	switch _, res := parseTime(v); res {
	case timeOverflow:
		c.alert("timer overflow in argument <%s> to <%s> (maximum value is 2147483647 ms or ~24.8 days)", v, kw)
	case timeUnderflow:
		c.alert("timer underflow in argument <%s> to <%s> (minimum non-null value is 1 ms)", v, kw)
	case timeBadChar:
		c.alert("%s: invalid timeout", kw)
	}
}

func globalThreadGroups(c *pctx) { threadCount(c, maxTGroups) }

// threadCount reads nbthread or thread-groups: one integer from 1 to
// most, with HAProxy's messages; ok is false after an alert.
func threadCount(c *pctx, most int64) (n int64, ok bool) {
	if c.tooMany(1) {
		return 0, false
	}
	n, end := strtolEnd(c.arg(1))
	if c.arg(1) == "" || end < len(c.arg(1)) {
		c.alert("'%s' passed a missing or unparsable integer value in '%s'", c.args[0], c.arg(1))
		return 0, false
	}
	if n < 1 || n > most {
		c.alert("'%s' value must be between 1 and %d (was %d)", c.args[0], most, n)
		return 0, false
	}
	return n, true
}

// globalThreadGroup is cfg_parse_thread_group, which remembers the
// threads each line assigns.
func globalThreadGroup(c *pctx) {
	kw := c.args[0]
	g, end := strtolEnd(c.arg(1))
	if c.arg(1) == "" || end < len(c.arg(1)) {
		c.alert("'%s' passed a missing or unparsable integer value in '%s'", kw, c.arg(1))
		return
	}
	if g < 1 || g > maxTGroups {
		c.alert("'%s' thread-group number must be between 1 and %d (was %d)", kw, maxTGroups, g)
		return
	}
	st := &c.cp.global
	if st.tgCount > 0 {
		c.warn("'%s %d' was already defined and will be overridden.", kw, g)
		// HAProxy 2.6 releases the threads one below the group's (its
		// base is an index, read as a thread number).
		for t := st.tgBase; t < st.tgBase+st.tgCount; t++ {
			if t >= 1 && st.threadGroup[t-1] == g {
				st.threadGroup[t-1] = 0
			}
		}
		st.tgBase, st.tgCount = 0, 0
	}
	tot := 0
	for i := 2; i < len(c.args) && c.args[i] != ""; i++ {
		a := c.args[i]
		tnum, e := strtolEnd(a)
		tend, rest := tnum, a[e:]
		if rest != "" && rest[0] == '-' {
			tend, e = strtolEnd(rest[1:])
			rest = rest[1+e:]
		}
		if rest != "" || tnum < 1 || tend < 1 || tnum > maxThreads || tend > maxThreads {
			c.alert("'%s %d' passed an unparsable or invalid thread number '%s' (valid range is 1 to %d)", kw, g, a, maxThreads)
			return
		}
		for ; tnum <= tend; tnum++ {
			t := int(tnum)
			if prev := st.threadGroup[t-1]; prev == g {
				c.warn("'%s %d': thread %d assigned more than once on the same line.", kw, g, t)
			} else if prev != 0 {
				c.warn("'%s %d': thread %d was previously assigned to thread group %d and will be overridden.", kw, g, t, prev)
			}
			switch {
			case st.tgCount == 0:
				st.tgBase, st.tgCount = t-1, 1
			case t >= st.tgBase+st.tgCount:
				st.tgCount = t - st.tgBase
			case t < st.tgBase:
				st.tgCount += st.tgBase - t - 1
				st.tgBase = t - 1
			}
			st.threadGroup[t-1] = g
			tot++
		}
	}
	if st.tgCount > tot {
		c.alert("'%s %d' assigned sparse threads, only contiguous supported", kw, g)
	} else if st.tgCount > maxThreadsPerGroup {
		c.alert("'%s %d' assigned too many threads (%d, max=%d)", kw, g, tot, maxThreadsPerGroup)
	}
}

// strtolEnd is C's strtol in base 10 on a 64-bit long: the value, clamped,
// and where the digits end (0 when there is none).
func strtolEnd(s string) (int64, int) {
	start, neg := cSign(s)
	v, i, over := cDigits(s, start)
	switch {
	case i == start:
		return 0, 0
	case neg && (over || v >= 1<<63):
		return math.MinInt64, i
	case neg:
		return -int64(v), i
	case over || v > math.MaxInt64:
		return math.MaxInt64, i
	}
	return int64(v), i
}

// catoi is glibc's atoi: strtol's value cut to an int.
func catoi(s string) int32 {
	v, _ := strtolEnd(s)
	return int32(v)
}

// globalBase reads ca-base or crt-base, which HAProxy takes once.
func globalBase(c *pctx, dst *string) {
	switch {
	case c.tooMany(1):
	case *dst != "":
		c.alert("'%s' already specified.", c.args[0])
	case c.arg(1) == "":
		c.alert("global statement '%s' expects a directory path as an argument.", c.args[0])
	default:
		*dst = c.arg(1)
	}
}

func globalNode(c *pctx) {
	if c.tooMany(1) {
		return
	}
	v := c.arg(1)
	ok := v != ""
	for i := 0; i < len(v); i++ {
		b := v[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.') {
			ok = false
		}
	}
	if !ok {
		c.tight("'%s' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).", c.args[0])
		return
	}
	c.cp.cfg.Global.Node = v
}

// envLineOK checks setenv, presetenv and unsetenv as HAProxy does before
// (and while) changing its environment.
func envLineOK(c *pctx) bool {
	kw := c.args[0]
	switch kw {
	case "setenv", "presetenv":
		switch {
		case c.tooMany(3):
		case c.arg(2) == "":
			c.tight("'%s' expects a name and a value.", kw)
		case !envNameOK(c.arg(1)):
			c.tight("'%s' failed on variable '%s' : Invalid argument.", kw, c.arg(1))
		default:
			return true
		}
		return false
	case "unsetenv":
		if c.arg(1) == "" {
			c.tight("'%s' expects at least one variable name.", kw)
			return false
		}
		for i := 1; i < len(c.args) && c.args[i] != ""; i++ {
			if !envNameOK(c.args[i]) {
				c.tight("'%s' failed on variable '%s' : Invalid argument.", kw, c.args[i])
				return false
			}
		}
	}
	return true
}

// envNameOK is what setenv(3) and unsetenv(3) accept as a name.
func envNameOK(n string) bool { return n != "" && !strings.Contains(n, "=") }

// sslProviderExists says whether OpenSSL 3 can load provider name: one
// of its built-in providers, or a module in ssl-provider-path, else in
// $OPENSSL_MODULES or the system's modules directory.
func sslProviderExists(name, path string) bool {
	switch name {
	case "default", "base", "null":
		return true
	}
	dirs := []string{path}
	if path == "" {
		dirs = []string{os.Getenv("OPENSSL_MODULES"), "/usr/lib/x86_64-linux-gnu/ossl-modules", "/usr/lib/aarch64-linux-gnu/ossl-modules",
			"/usr/lib64/ossl-modules", "/usr/lib/ossl-modules", "/usr/local/lib64/ossl-modules", "/usr/local/lib/ossl-modules"}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, name+".so")); err == nil {
			return true
		}
		if path != "" {
			break
		}
	}
	return false
}
