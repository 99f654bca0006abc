package parser

import "os"

// The "filter" keyword (configuration.txt section 9): explicit filter
// declarations, whose order decides where the cache and the compression
// run. The compression, cache and trace filters are run; the others are
// read with HAProxy's messages and refused by the runtime.

// FilterDecl is a "filter" line.
type FilterDecl struct {
	Pos Pos
	// Kind is the filter (cache, compression, trace, spoe, opentracing,
	// fcgi-app); Name is the cache's name, the SPOE engine's when
	// "engine" names it (else it is the agent's, in the SPOE file), or
	// the OpenTracing filter's "id".
	Kind, Name string
	// Trace holds a trace filter's options (nil for other kinds).
	Trace *TraceOpts
}

// TraceOpts are the options of "filter trace" (configuration.txt 9.1):
// Name is empty without "name"; Quiet, RandFwd and Hexdump are "quiet",
// "random-forwarding" and "hexdump" ("random-parsing" is read and has no
// effect, as in HAProxy 2.6).
type TraceOpts struct {
	Name                    string
	Quiet, RandFwd, Hexdump bool
}

// filterKinds are the registered filters as "filter" lists them.
var filterKinds = []string{"    [CACHE] cache", "    [COMP] compression", "    [FCGI] fcgi-app",
	"    [  OT] opentracing", "    [SPOE] spoe", "    [TRACE] trace"}

func init() {
	proxyKeywords["filter"] = keyword{support: Unsupported, handle: kwFilter}
}

func kwFilter(c *pctx) {
	p := c.cp.proxy
	if p.Cap&CapDef != 0 {
		c.alert("parsing [%s:%d] : %s is not allowed in a 'default' section.", c.pos.File, c.pos.Line, c.args[0])
		return
	}
	if c.arg(1) == "" {
		c.alert("parsing [%s:%d] : missing argument for '%s' in %s '%s'.", c.pos.File, c.pos.Line, c.args[0], ProxyTypeStr(p), p.Name)
		return
	}
	f := &FilterDecl{Pos: c.pos, Kind: c.arg(1)}
	switch f.Kind {
	case "cache":
		if c.arg(2) == "" {
			c.alert("'%s' : 'cache : expects a <name> argument'", c.args[0])
			return
		}
		f.Name = c.arg(2)
		for _, o := range p.Filters {
			if o.Kind == "cache" && o.Name == f.Name {
				c.alert("'%s' : '%s: multiple explicit declarations of the cache filter '%s''", c.args[0], p.Name, f.Name)
				return
			}
		}
		if c.arg(3) != "" {
			c.alert("'%s %s' : unknown keyword '%s'.", c.args[0], c.args[1], c.arg(3))
			return
		}
		c.runtimeForm()
	case "compression":
		for _, o := range p.Filters {
			if o.Kind == "compression" {
				// HAProxy's message ends with a newline inside its quotes.
				c.alert("'%s' : '%s: Proxy supports only one compression filter", c.args[0], p.Name)
				c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{"'"}
				return
			}
		}
		if c.arg(2) != "" {
			c.alert("'%s %s' : unknown keyword '%s'.", c.args[0], c.args[1], c.arg(2))
			return
		}
		c.runtimeForm()
	case "trace":
		if !kwTraceFilter(c, f) {
			return
		}
		c.runtimeForm()
	case "spoe":
		// parse_spoe_flt: its options, then the SPOE file it must open
		// (its content is not read here). Read, not run.
		file := ""
		for i := 2; c.arg(i) != ""; i += 2 {
			switch o := c.arg(i); o {
			case "config", "engine":
				if c.arg(i+1) == "" {
					c.alert("'%s' : ''%s' : '%s' option without value'", c.args[0], c.args[1], o)
					return
				}
				if o == "config" {
					file = c.arg(i + 1)
				} else {
					f.Name = c.arg(i + 1)
				}
			default:
				c.alert("'%s' : 'unknown keyword '%s''", c.args[0], o)
				return
			}
		}
		if file == "" {
			c.alert("'%s' : ''%s' : missing config file'", c.args[0], c.args[1])
			return
		}
		fh, err := os.Open(file)
		if err != nil {
			c.alert("'%s' : 'Could not open configuration file %s : %s'", c.args[0], file, errnoText(err))
			return
		}
		fh.Close()
	case "fcgi-app":
		// parse_fcgi_flt; the application is then checked as
		// use-fcgi-app's. Read, not run.
		if c.arg(2) == "" {
			c.alert("'%s' : '%s : expects a <name> argument'", c.args[0], c.args[1])
			return
		}
		if p.FCGIApp == "" {
			p.FCGIApp = c.arg(2)
		}
	case "opentracing":
		// Read, not run: the line stays refused by the runtime. Its
		// "id" is what ot-group rules name.
		for i := 2; c.arg(i) != ""; i++ {
			if c.arg(i) == "id" {
				f.Name = c.arg(i + 1)
				break
			}
		}
	default:
		c.alert("'%s' : unknown keyword '%s'. Registered keywords :", c.args[0], c.arg(1))
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = append([]string(nil), filterKinds...)
		return
	}
	p.Filters = append(p.Filters, f)
}

// kwTraceFilter reads a trace filter's options as flt_trace.c's parser:
// the first word it does not know ends them, and is then refused as
// parse_filter refuses any word left.
func kwTraceFilter(c *pctx, f *FilterDecl) bool {
	o := &TraceOpts{}
	pos := 2
	for ; c.arg(pos) != ""; pos++ {
		switch c.arg(pos) {
		case "name":
			if c.arg(pos+1) == "" {
				c.alert("'%s' : ''%s' : '%s' option without value'", c.args[0], c.args[1], c.arg(pos))
				return false
			}
			o.Name = c.arg(pos + 1)
			pos++
			continue
		case "quiet":
			o.Quiet = true
			continue
		case "random-parsing":
			continue
		case "random-forwarding":
			o.RandFwd = true
			continue
		case "hexdump":
			o.Hexdump = true
			continue
		}
		break
	}
	if c.arg(pos) != "" {
		c.alert("'%s %s' : unknown keyword '%s'.", c.args[0], c.args[1], c.arg(pos))
		return false
	}
	f.Trace = o
	return true
}
