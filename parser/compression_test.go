package parser

import (
	"strings"
	"testing"
)

// A proxy adds its algorithms and types to those of its defaults
// section; offload is its own, never inherited.
func TestCompressionModel(t *testing.T) {
	cfg := `defaults
 mode http
 compression algo gzip
 compression type text/plain
 compression offload
frontend fe
 bind :80
 compression algo deflate raw-deflate
 compression offload
 default_backend be
backend be
 compression type text/html
 server s 127.0.0.1:1
backend other
 server s 127.0.0.1:1
`
	c, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := map[string]string{
		"fe":    "gzip,deflate,raw-deflate|text/plain|true",
		"be":    "gzip|text/plain,text/html|false",
		"other": "gzip|text/plain|false",
	}
	for _, p := range c.Proxies {
		w, ok := want[p.Name]
		if !ok {
			continue
		}
		z := p.Compression
		if z == nil {
			t.Errorf("%s: no compression", p.Name)
			continue
		}
		got := strings.Join(z.Algos, ",") + "|" + strings.Join(z.Types, ",") + "|" + map[bool]string{true: "true", false: "false"}[z.Offload]
		if got != w {
			t.Errorf("%s: %s, want %s", p.Name, got, w)
		}
	}
	if g := c.Global; g.CompMaxLevel != 0 || g.MaxCompRate != 0 {
		t.Errorf("globals set without lines: %+v", g)
	}
}

func TestCompressionLines(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"compression algo gzip deflate", ""},
		{"compression algo", "'compression' expects <algorithm>."},
		{"compression algo gzip br", "'compression' : 'br' is not a supported algorithm."},
		{"compression type", "'compression' expects <type>."},
		{"compression type text/plain text/css", ""},
		{"compression offload", ""},
		{"compression", "'compression' expects 'algo', 'type' or 'offload'"},
		{"compression level 9", "'compression' expects 'algo', 'type' or 'offload'"},
	} {
		_, ds := Parse([]Input{{Name: "l.cfg", Data: []byte("backend b\n " + c.line + "\n")}}, Options{})
		got := render(ds)
		if c.want == "" && ds.HasErrors() || !strings.Contains(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
		}
	}
	for _, c := range []struct{ line, want string }{
		{"tune.comp.maxlevel 5", ""},
		{"tune.comp.maxlevel 0", "'tune.comp.maxlevel' expects a numeric value between 1 and 9"},
		{"maxcomprate 10", ""},
		{"maxcomprate", "'maxcomprate' expects an integer argument in kb/s."},
		{"maxcompcpuusage -1", "'maxcompcpuusage' expects an integer argument between 0 and 100."},
	} {
		cfg, ds := Parse([]Input{{Name: "g.cfg", Data: []byte("global\n " + c.line + "\n")}}, Options{})
		got := render(ds)
		if c.want == "" && ds.HasErrors() || !strings.Contains(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.line, got, c.want)
		}
		if c.line == "maxcomprate 10" && cfg.Global.MaxCompRate != 10240 {
			t.Errorf("maxcomprate 10: %d bytes/s", cfg.Global.MaxCompRate)
		}
	}
}
