package parser

// The "filter" keyword (configuration.txt section 9): explicit filter
// declarations, whose order decides where the cache and the compression
// run. The compression and cache filters are run; the others are read
// with HAProxy's messages and refused by the runtime.

// FilterDecl is a "filter" line.
type FilterDecl struct {
	Pos Pos
	// Kind is the filter (cache, compression, trace, spoe, opentracing,
	// fcgi-app); Name is the cache's name.
	Kind, Name string
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
	case "trace", "spoe", "opentracing", "fcgi-app":
		// Read, not run: the line stays refused by the runtime.
	default:
		c.alert("'%s' : unknown keyword '%s'. Registered keywords :", c.args[0], c.arg(1))
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = append([]string(nil), filterKinds...)
		return
	}
	p.Filters = append(p.Filters, f)
}
