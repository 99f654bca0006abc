package parser

import "testing"

// tune.maxaccept is read with HAProxy 2.6's messages (haproxy -c) and
// kept in the typed model.
func TestMaxAccept(t *testing.T) {
	for _, f := range []struct {
		lines string
		want  int
		msg   string
	}{
		{" tune.maxaccept 8\n", 8, ""},
		{" tune.maxaccept -1\n", -1, ""},
		{" tune.maxaccept -5\n", -5, ""},
		{" tune.maxaccept abc\n", 0, ""},
		{" tune.maxaccept 0\n tune.maxaccept 3\n", 3, ""},
		{" tune.maxaccept 4\n tune.maxaccept 8\n", 4, "parsing [p.cfg:3] : 'tune.maxaccept' already specified. Continuing."},
		{" tune.maxaccept 2147483648\n", 0, "parsing [p.cfg:2] : 'tune.maxaccept' expects -1 or an integer from 0 to INT_MAX."},
		{" tune.maxaccept 1 2\n", 0, "parsing [p.cfg:2] : 'tune.maxaccept' cannot handle unexpected argument '2'."},
		{" tune.maxaccept\n", 0, "parsing [p.cfg:2] : 'tune.maxaccept' expects an integer argument."},
	} {
		c, got := parseGlobal(f.lines)
		if got != f.msg {
			t.Errorf("%q:\n got %q\nwant %q", f.lines, got, f.msg)
		}
		if c != nil && c.Global.MaxAccept != f.want {
			t.Errorf("%q: MaxAccept %d, want %d", f.lines, c.Global.MaxAccept, f.want)
		}
	}
}

// parseGlobal parses a global section of lines (as p.cfg) and gives the
// first diagnostic's text, "" for none.
func parseGlobal(lines string) (*Config, string) {
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("global\n" + lines)}}, Options{})
	if len(ds) > 0 {
		return c, ds[0].Text()
	}
	return c, ""
}
