package runtime

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
)

// RouteCfg is a frontend whose rules mix runs that a table can hold with
// rules that break them: other fetches, case-sensitive patterns, named
// ACLs, "unless", negations, a pattern repeated by a later rule. Its
// arguments are the bind address and the servers of b1 to b6.
const RouteCfg = `defaults
 mode http
 timeout connect 1s
 timeout client 1s
 timeout server 1s
frontend fe
 bind %[1]s
 acl named hdr(host) -i d.example
 acl named req.hdr(host) -i e.example E2.example
 acl path_x path_beg /x
 use_backend b1 if { hdr(host) -i a.example }
 use_backend b2 if { hdr(host) -i b.example B2.Example }
 use_backend b3 if { req.hdr(host) -i c.example a.example }
 use_backend b4 if named
 use_backend b5 if { hdr(host) -i b.example }
 use_backend b6 if { hdr(host) a.example x.example }
 use_backend b1 if { hdr(host) x.example }
 use_backend b2 if path_x
 use_backend b3 if { hdr(host) -i x.example }
 use_backend b4 if { hdr(host) -i y.example }
 use_backend b5 unless { hdr(host) -i z.example }
 use_backend b6 if { hdr(host) -i z.example }
 use_backend b1 if ! { hdr(host) -i w.example }
 default_backend b6
backend b1
 server s %[2]s
backend b2
 server s %[3]s
backend b3
 server s %[4]s
backend b4
 server s %[5]s
backend b5
 server s %[6]s
backend b6
 server s %[7]s
`

func compileText(t testing.TB, text string) *Graph {
	t.Helper()
	cfg, ds := parser.Parse([]parser.Input{{Name: "r.cfg", Data: []byte(text)}}, parser.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	g, errs := Compile(cfg, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return g
}

// routeOf runs the frontend's routing, as a session does, on a request.
func routeOf(t testing.TB, g *Graph, s *session, req string) string {
	buf := []byte(req)
	m := &h1.Msg{Headers: make([]h1.Header, 0, 101)}
	if err := h1.ParseRequest(buf, m, 101); err != nil {
		t.Fatalf("parse %q: %v", req, err)
	}
	s.txn.Buf, s.txn.Req = buf, m
	if be := s.route(); be != nil {
		return be.Name
	}
	return "-"
}

// The tables pick, for every request, the backend the rules walked one
// by one pick.
func TestTableRoutesMatchWalk(t *testing.T) {
	cfg := fmt.Sprintf(RouteCfg, "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1")
	tables := compileText(t, cfg)
	defer func(n int) { minTable = n }(minTable)
	minTable = 1 << 30
	walk := compileText(t, cfg)
	if n, m := len(tables.Frontends[0].routes), len(walk.Frontends[0].routes); n != 7 || m != 13 {
		t.Fatalf("tables made %d routes of %d", n, m)
	}
	st := &session{e: &Engine{g: tables}, fe: tables.Frontends[0], streamScratch: new(streamScratch)}
	sw := &session{e: &Engine{g: walk}, fe: walk.Frontends[0], streamScratch: new(streamScratch)}
	checked := 0
	for _, req := range RouteRequests() {
		got, want := routeOf(t, tables, st, req), routeOf(t, walk, sw, req)
		if got != want {
			t.Errorf("%q: table %s, walk %s", strings.TrimSpace(req), got, want)
		}
		checked++
	}
	if checked < 40 {
		t.Fatalf("only %d requests", checked)
	}
}

// RouteRequests are requests for RouteCfg: hosts of every rule, in other
// cases, with a port, lists, none.
func RouteRequests() []string {
	var out []string
	hosts := []string{"a.example", "A.EXAMPLE", "b.example", "b2.example", "B2.EXAMPLE", "c.example", "d.example",
		"e.example", "e2.example", "x.example", "X.example", "y.example", "z.example", "w.example", "a.example:80",
		"unknown", "", " a.example ", "a.example, b.example", "b.example,a.example"}
	for _, h := range hosts {
		for _, path := range []string{"/", "/x"} {
			out = append(out, fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, h))
			if h == "" {
				out = append(out, "GET "+path+" HTTP/1.0\r\n\r\n")
			}
		}
	}
	return out
}

// hostRules is n backends with one host rule each.
func hostRules(n int) string {
	var b strings.Builder
	b.WriteString("defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nfrontend fe\n bind 127.0.0.1:1\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " use_backend b%d if { hdr(host) -i h%d.example }\n", i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "backend b%d\n server s 127.0.0.1:1\n", i)
	}
	return b.String()
}

// BenchmarkRoute routes a request to the last of n host rules: the cost
// does not depend on n with tables, and grows with it when the rules are
// walked.
func BenchmarkRoute(b *testing.B) {
	for _, walk := range []bool{false, true} {
		for _, n := range []int{10, 10000} {
			name := fmt.Sprintf("table/%d", n)
			if walk {
				name = fmt.Sprintf("walk/%d", n)
			}
			b.Run(name, func(b *testing.B) {
				defer func(m int) { minTable = m }(minTable)
				if walk {
					minTable = 1 << 30
				}
				g := compileText(b, hostRules(n))
				s := &session{e: &Engine{g: g}, fe: g.Frontends[0], streamScratch: new(streamScratch)}
				want := fmt.Sprintf("b%d", n-1)
				req := fmt.Sprintf("GET / HTTP/1.1\r\nHost: H%d.example\r\nUser-Agent: bench\r\n\r\n", n-1)
				if got := routeOf(b, g, s, req); got != want {
					b.Fatalf("routed to %s", got)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s.route()
				}
			})
		}
	}
}
