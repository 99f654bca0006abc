package logfmt

import (
	"strings"
	"testing"
	"time"
)

func TestParseNodes(t *testing.T) {
	nodes, err := Parse("%{+Q}o %{-Q}ci  x%%y %{+X,+E}[src,lower] %-z")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		k    Kind
		text string
		name string
		opts Opt
	}
	ws := []want{
		{Separator, "", "", 0},
		{Variable, "", "ci", LogFormatFlags},
		{Separator, "", "", 0},
		{Separator, "", "", 0},
		{Text, "x", "", 0},
		{Text, "%y", "", 0},
		{Separator, "", "", 0},
		{Expr, "src,lower", "", LogFormatFlags | OptQuote | OptHexa | OptEsc},
		{Separator, "", "", 0},
		{Text, "-z", "", 0},
	}
	if len(nodes) != len(ws) {
		t.Fatalf("got %d nodes: %+v", len(nodes), nodes)
	}
	for i, w := range ws {
		n := nodes[i]
		got := n.Text
		if n.Kind == Expr {
			got = n.Expr
		}
		if n.Kind != w.k || got != w.text || n.Name != w.name || (n.Kind >= Variable && n.Opts != w.opts) {
			t.Errorf("node %d = %+v, want %+v", i, n, w)
		}
	}
}

func TestParseNoMerge(t *testing.T) {
	nodes, err := ParseWith("a  b", Options{Flags: OptMandatory})
	if err != nil || len(nodes) != 1 || nodes[0].Text != "a  b" {
		t.Fatalf("got %+v, %v", nodes, err)
	}
}

func TestVarArgs(t *testing.T) {
	cases := []struct {
		arg  string
		in   Opt
		want Opt
	}{
		{"+Q", 0, OptQuote},
		{"Q", 0, 0},
		{"+Q,-Q", 0, 0},
		{"+Q-X", OptHexa | OptQuote, OptQuote}, // the later "-" restarts the name: only "X" is removed, "+Q" is lost
		{"+M,+E,+nope", 0, OptMandatory | OptEsc},
		{"-M", OptMandatory, 0},
		{",,+X,", 0, OptHexa},
	}
	for _, c := range cases {
		if got := parseVarArgs(c.arg, c.in); got != c.want {
			t.Errorf("parseVarArgs(%q, %#x) = %#x, want %#x", c.arg, c.in, got, c.want)
		}
	}
}

func TestKeywordTable(t *testing.T) {
	seen := map[Var]bool{}
	for _, k := range Keywords {
		if seen[k.Var] {
			t.Errorf("type %d listed twice", k.Var)
		}
		seen[k.Var] = true
		if got, ok := Lookup(k.Name); !ok || got != k {
			t.Errorf("Lookup(%q) = %+v", k.Name, got)
		}
	}
	// every LOG_FMT_* information type but text/expr/separator has a name
	for v := VarGlobal; v < numVars; v++ {
		if !seen[v] {
			t.Errorf("type %d has no keyword", v)
		}
	}
	if k, _ := Lookup("r"); !k.HTTP {
		t.Error("r must be HTTP-only")
	}
	if k, _ := Lookup("bi"); !k.SrcAddr {
		t.Error("bi needs the source address")
	}
}

func TestScanExpr(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		fail bool
	}{
		{"src]", 3, false},
		{"src,lower,upper] x", 15, false},
		{"req.hdr(host,1),lower]", 21, false},
		{`str("a)b"),upper]`, 16, false},
		{`str(a\)b)]`, 9, false},
		{"]", 0, true},
		{"src,]", 0, true},
		{"str(abc", 0, true},
		{"src,,lower]", 10, false},
		{"src lower", 3, false},
	}
	for _, c := range cases {
		n, err := ScanExpr(c.in)
		if (err != nil) != c.fail || (!c.fail && n != c.n) {
			t.Errorf("ScanExpr(%q) = %d, %v", c.in, n, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{HTTPLog, HTTPSLog, HTTPLogCLF, TCPLog, "%{+Q", "%[src,lower]", "%{+E}[str(\"a]\")]"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, http bool) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			nodes, err := ParseWith(s, Options{HTTP: http, Flags: LogFormatFlags})
			if err != nil {
				if nodes != nil || err.Error() == "" {
					t.Errorf("error %v with nodes %v", err, nodes)
				}
				return
			}
			for _, n := range nodes {
				switch n.Kind {
				case Text:
					if n.Text == "" || strings.IndexByte(n.Text, ' ') >= 0 {
						t.Errorf("bad text node %q in %q", n.Text, s)
					}
				case Variable:
					k, ok := Lookup(n.Name)
					if !ok || k.Var != n.Var || (k.HTTP && !http) {
						t.Errorf("bad variable %+v", n)
					}
				case Expr:
					if !strings.HasPrefix(n.Rest, n.Expr+"]") {
						t.Errorf("expression %q not closed in %q", n.Expr, n.Rest)
					}
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse(%q) did not return", s)
		}
	})
}
