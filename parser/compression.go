package parser

// Compression is what the "compression" lines of a proxy set
// (configuration.txt 4.2, "compression"). The runtime's comp package
// reads the words.
type Compression struct {
	Pos Pos
	// Algos and Types are the "compression algo" and "compression type"
	// words in configuration order, those of the defaults section first.
	Algos, Types []string
	// Offload is "compression offload", which a defaults section does
	// not pass on.
	Offload bool
}

// compressionAlgos are the algorithm names HAProxy 2.6 accepts
// (comp_algos in src/compression.c).
var compressionAlgos = map[string]bool{"identity": true, "deflate": true, "raw-deflate": true, "gzip": true}

// kwCompression reads a "compression" line as parse_compression_options
// does.
func kwCompression(c *pctx) {
	p := c.cp.proxy
	if p.Compression == nil {
		p.Compression = &Compression{Pos: c.pos}
	}
	cfg := p.Compression
	switch c.arg(1) {
	case "algo":
		if c.arg(2) == "" {
			// HAProxy prints the position twice for this one.
			c.alert("parsing [%s:%d] : '%s' expects <algorithm>.", c.pos.File, c.pos.Line, c.args[0])
			return
		}
		for _, a := range c.args[2:] {
			if a == "" {
				break
			}
			if !compressionAlgos[a] {
				c.alert("'%s' : '%s' is not a supported algorithm.", c.args[0], a)
				return
			}
			cfg.Algos = append(cfg.Algos[:len(cfg.Algos):len(cfg.Algos)], a)
		}
	case "offload":
		if p.Cap&CapDef != 0 {
			c.warn("'%s' : '%s' ignored in 'defaults' section.", c.args[0], c.args[1])
		}
		cfg.Offload = true
	case "type":
		if c.arg(2) == "" {
			c.alert("'%s' expects <type>.", c.args[0])
			return
		}
		for _, t := range c.args[2:] {
			if t == "" {
				break
			}
			cfg.Types = append(cfg.Types[:len(cfg.Types):len(cfg.Types)], t)
		}
	default:
		c.alert("'%s' expects 'algo', 'type' or 'offload'", c.args[0])
	}
}

// inheritCompression gives a proxy the algorithms and types of its
// defaults section, as proxy_defproxy_cpy does; offload stays behind.
func (p *Proxy) inheritCompression(d *Proxy) {
	if d.Compression != nil {
		p.Compression = &Compression{Pos: d.Compression.Pos, Algos: d.Compression.Algos, Types: d.Compression.Types}
	}
}

// compressionGlobals are the global settings of compression.
func compressionGlobals() {
	globalKeywords["tune.comp.maxlevel"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		n := Atol(c.arg(1))
		if c.arg(1) == "" || n < 1 || n > 9 {
			c.alert("'%s' expects a numeric value between 1 and 9", c.args[0])
			return
		}
		c.cp.cfg.Global.CompMaxLevel = n
	}}
	globalKeywords["maxcomprate"] = keyword{support: Supported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		if c.arg(1) == "" {
			c.alert("'%s' expects an integer argument in kb/s.", c.args[0])
			return
		}
		c.cp.cfg.Global.MaxCompRate = Atol(c.arg(1)) * 1024
	}}
	// The CPU usage the limit reads has no equivalent here: refused.
	globalKeywords["maxcompcpuusage"] = keyword{support: Unsupported, handle: func(c *pctx) {
		if c.tooMany(1) {
			return
		}
		// HAProxy keeps 100 minus the value in an unsigned int.
		if n := catoi(c.arg(1)); c.arg(1) == "" || n < 0 || n > 100 {
			c.alert("'%s' expects an integer argument between 0 and 100.", c.args[0])
		}
	}}
}
