package parser

import (
	"strings"
	"testing"
)

// "filter trace" options, read as flt_trace.c reads them, with
// HAProxy's messages for a missing name and a word left over.
func TestTraceFilterLines(t *testing.T) {
	for _, c := range []struct{ line, want, opts string }{
		{"filter trace", "", "|false|false|false"},
		{"filter trace name T random-parsing random-forwarding hexdump quiet", "", "T|true|true|true"},
		{"filter trace quiet name \"A B\"", "", "A B|true|false|false"},
		{"filter trace name", "'filter' : ''trace' : 'name' option without value'", ""},
		{"filter trace name \"\" quiet", "'filter' : ''trace' : 'name' option without value'", ""},
		{"filter trace quiet foo", "'filter trace' : unknown keyword 'foo'.", ""},
	} {
		cfg, ds := Parse([]Input{{Name: "l.cfg", Data: []byte("backend b\n " + c.line + "\n")}}, Options{})
		got := render(ds)
		if c.want == "" && ds.HasErrors() || !strings.Contains(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
			continue
		}
		if c.opts == "" {
			continue
		}
		fs := cfg.Proxies[len(cfg.Proxies)-1].Filters
		if len(fs) != 1 || fs[0].Trace == nil {
			t.Errorf("%q: filters %+v", c.line, fs)
			continue
		}
		o := fs[0].Trace
		if g := strings.Join([]string{o.Name, tf(o.Quiet), tf(o.RandFwd), tf(o.Hexdump)}, "|"); g != c.opts {
			t.Errorf("%q: options %s, want %s", c.line, g, c.opts)
		}
	}
}

func tf(b bool) string { return map[bool]string{true: "true", false: "false"}[b] }
