package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeersModel(t *testing.T) {
	cfg := `global
  localpeer me
peers p1
  peer other 127.0.0.1:10001
  peer me 127.0.0.1:10000
  table t1 type ip size 10 store gpc0
peers p2
  bind 127.0.0.1:10002
  server me
  server x 127.0.0.2:10003
  disabled
peers p3
  disabled
  enabled
  peer y 127.0.0.1:1
`
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if c.LocalPeer != "me" || len(c.Peers) != 3 {
		t.Fatalf("%q %d", c.LocalPeer, len(c.Peers))
	}
	p1, p2, p3 := c.PeersByName("p1"), c.PeersByName("p2"), c.PeersByName("p3")
	if l := p1.LocalPeerLine(); l == nil || l.Addr != "127.0.0.1:10000" || l.Line() != 5 || p1.Peers[0].Local || p1.Disabled {
		t.Errorf("p1: %+v", p1.Peers)
	}
	if len(p1.Tables) != 1 || p1.Tables[0].Name != "t1" || strings.Join(p1.Tables[0].Words, " ") != "table t1 type ip size 10 store gpc0" {
		t.Errorf("p1 tables: %+v", p1.Tables)
	}
	if p2.Bind == nil || p2.Bind.Address != "127.0.0.1:10002" || !p2.Disabled || p2.LocalPeerLine().Addr != "" || p2.Peers[1].Addr != "127.0.0.2:10003" {
		t.Errorf("p2: %+v", p2)
	}
	if p3.Disabled || p3.LocalPeerLine() != nil {
		t.Errorf("p3: %+v", p3)
	}
	for _, d := range c.Directives {
		if d.Section == "peers" && d.Support != Supported {
			t.Errorf("%s:%d %s: %v", d.Pos.File, d.Pos.Line, d.Keyword, d.Support)
		}
	}
}

func (l *PeerLine) Line() int { return l.Pos.Line }

// Errors, as HAProxy 2.6 words them.
func TestPeersErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"bind 127.0.0.1:1000\n  peer a 127.0.0.1:1001", `parsing [p.cfg:5] : mixing "peer" and "bind" line is forbidden`},
		{"peer a 127.0.0.1:1001\n  bind 127.0.0.1:1000", `parsing [p.cfg:5] : mixing "peer" and "bind" line is forbidden`},
		{"bind 127.0.0.1:1000\n  bind 127.0.0.1:1002", `parsing [p.cfg:5] : One listener per "peers" section is authorized but another is already configured at [p.cfg:4].`},
		{"peer a 127.0.0.1:1001\n  peer a 127.0.0.1:1002", "parsing [p.cfg:5] : 'peer a' : local peer name already referenced at p.cfg:4. a"},
		{"peer a 127.0.0.1", "parsing [p.cfg:4] : 'peer a' : missing port specification in '127.0.0.1'"},
		{"shards 2", "parsing [p.cfg:4] : unknown keyword 'shards' in 'peers' section"},
		{"bogus", "parsing [p.cfg:4] : unknown keyword 'bogus' in 'peers' section"},
	} {
		cfg := "global\n  localpeer a\npeers p\n  " + tc.body + "\n"
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
		var got []string
		for _, d := range ds {
			got = append(got, d.Text())
		}
		if !ds.HasErrors() || !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.body, got, tc.want)
		}
	}
	for _, tc := range []struct{ cfg, want string }{
		{"peers p x\n", "parsing [p.cfg:1] : 'peers' cannot handle unexpected argument 'x'."},
		{"peers q.r@\n", "parsing [p.cfg:1] : character '@' is not permitted in 'peers' name 'q.r@'."},
		{"peers p\npeers p\n", "Parsing [p.cfg:2]: peers section 'p' has the same name as another peers section declared at p.cfg:1."},
		{"peers\n", "parsing [p.cfg:1] : missing name for peers section."},
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(tc.cfg)}}, Options{})
		var got []string
		for _, d := range ds {
			got = append(got, d.Text())
		}
		if !ds.HasErrors() || !strings.Contains(strings.Join(got, "\n"), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.cfg, got, tc.want)
		}
	}
}

// Without localpeer, the local peer is -L's name (HAPROXY_LOCALPEER).
func TestPeersLocalFromEnv(t *testing.T) {
	cfg := "peers p\n  peer n1 127.0.0.1:1\n  peer n2 127.0.0.1:2\n"
	lookup := func(k string) (string, bool) {
		if k == "HAPROXY_LOCALPEER" {
			return "n2", true
		}
		return "", false
	}
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{LookupEnv: lookup})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if l := c.Peers[0].LocalPeerLine(); l == nil || l.Name != "n2" {
		t.Errorf("local: %+v", l)
	}
}

// TLS options of servers are kept for the runtime; other server options
// are not run on peers.
func TestPeersServerOptions(t *testing.T) {
	// The bind line's certificate must exist, as HAProxy checks.
	crt := filepath.Join(t.TempDir(), "x.pem")
	if err := os.WriteFile(crt, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "global\n  localpeer a\npeers p\n  default-server ssl verify none\n  bind 127.0.0.1:1 ssl crt " + crt + "\n  server a\n  server b 127.0.0.1:2 crt y.pem\n  server c 127.0.0.1:3 check\n"
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	ps := c.Peers[0]
	if strings.Join(ps.DefaultServer, " ") != "ssl verify none" || strings.Join(ps.Peers[1].TLSWords, " ") != "crt y.pem" || strings.Join(ps.Bind.Options, " ") != "ssl crt "+crt {
		t.Errorf("%+v %+v %+v", ps.DefaultServer, ps.Peers[1], ps.Bind)
	}
	support := map[int]Support{}
	for _, d := range c.Directives {
		if d.Section == "peers" {
			support[d.Pos.Line] = d.Support
		}
	}
	if support[4] != Supported || support[7] != Supported || support[8] != Unsupported {
		t.Errorf("support: %v", support)
	}
}

// As in HAProxy, a peer may have no address.
func TestPeersNoAddress(t *testing.T) {
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte("global\n  localpeer a\npeers p\n  peer a\n  peer b\n")}}, Options{})
	if ds.HasErrors() || len(c.Peers[0].Peers) != 2 || c.Peers[0].Peers[1].Addr != "" || !c.Peers[0].Peers[0].Local {
		t.Errorf("%v %+v", ds, c.Peers[0].Peers)
	}
}
