package parser

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestResolversModel(t *testing.T) {
	cfg := `resolvers dns
  nameserver ns1 127.0.0.1:53
  parse-resolv-conf
  nameserver ns2 tcp@10.0.0.2:5353
  accepted_payload_size 8192
  resolve_retries 5
  timeout resolve 2s
  timeout retry 300ms
  hold valid 5s
  hold nx 1s
  hold obsolete 0
backend be
  default-server resolvers dns init-addr last,libc,none
  server s1 app:80 resolve-prefer ipv4 resolve-net 10.0.0.0/8,fd00::/8,192.168.0.0/255.255.0.0 resolve-opts allow-dup-ip,ignore-weight
  server s2 app:80 resolvers other init-addr 10.1.1.1
`
	c, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	r := c.ResolversByName("dns")
	if r == nil || c.ResolversByName("nope") != nil {
		t.Fatalf("sections: %+v", c.Resolvers)
	}
	if len(r.Nameservers) != 2 || r.Nameservers[1].Address != "tcp@10.0.0.2:5353" || r.ResolvConf.Line != 3 || r.ResolvConfAt != 1 {
		t.Errorf("nameservers: %+v", r)
	}
	if r.AcceptedPayloadSize != 8192 || r.ResolveRetries != 5 || *r.TimeoutResolve != 2*time.Second || *r.TimeoutRetry != 300*time.Millisecond {
		t.Errorf("settings: %+v", r)
	}
	if r.Hold["valid"] != 5*time.Second || r.Hold["nx"] != time.Second || r.Hold["obsolete"] != 0 || len(r.Hold) != 3 {
		t.Errorf("hold: %v", r.Hold)
	}
	s1, s2 := c.Proxies[0].Servers[0].Settings, c.Proxies[0].Servers[1].Settings
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("192.168.0.0/16")}
	if s1.Resolvers != "dns" || !s1.HasResolvers || s1.InitAddr != "last,libc,none" || s1.ResolvePrefer != "ipv4" ||
		len(s1.ResolveNets) != 3 || s1.ResolveNets[0] != nets[0] || s1.ResolveNets[1] != nets[1] || s1.ResolveNets[2] != nets[2] ||
		!s1.AllowDupIP || !s1.IgnoreWeight || s1.Unsupported != "" {
		t.Errorf("s1: %+v", s1)
	}
	if s2.Resolvers != "other" || s2.InitAddr != "10.1.1.1" || s2.AllowDupIP {
		t.Errorf("s2: %+v", s2)
	}
}

func TestResolversLines(t *testing.T) {
	cases := []struct{ line, want string }{
		{"nameserver a 127.0.0.1:53", ""},
		{"nameserver a udp@[::1]:53", ""},
		{"nameserver a", "'nameserver' expects <name> and <addr>[:<port>] as arguments."},
		{"nameserver a 1.2.3.4", "missing port specification in '1.2.3.4'"},
		{"nameserver a 1.2.3.4:53-54", "port range not permitted here"},
		{"nameserver a 1.2.3.4:+1", "port offset not permitted here"},
		{"nameserver a fd@3", "a file descriptor is not acceptable here"},
		{"nameserver a$ 1.2.3.4:53", "character '$' is not permitted in server name 'a$'."},
		{"parse-resolv-conf", ""},
		{"accepted_payload_size 1232", ""},
		{"accepted_payload_size 11", "'accepted_payload_size' must be between 12 and 65535 inclusive (was 11)."},
		{"resolve_retries 2", ""},
		{"resolve_retries", "'resolve_retries' expects <nb> as argument."},
		{"timeout resolve 1s", ""},
		{"timeout retry 1x", "unexpected character 'x' in argument to <timeout retry>."},
		{"timeout connect 1s", "'timeout' expects 'retry' or 'resolve' and <time> as arguments got 'connect'."},
		{"hold refused 3s", ""},
		{"hold sometimes 3s", "'hold' unknown <event>: 'sometimes'"},
		{"hold valid", "'hold' expects an <event> and a <time> as arguments."},
		{"resolution_pool_size 3", "directive is not supported anymore"},
		{"nameservr a 1.2.3.4:53", "unknown keyword 'nameservr' in 'resolvers' section"},
	}
	for _, tc := range cases {
		checkFirstDiag(t, "resolvers r\n  "+tc.line+"\n", tc.want)
	}
}

// checkFirstDiag parses cfg: with want empty it must be valid, otherwise
// its first message must contain want.
func checkFirstDiag(t *testing.T, cfg, want string) {
	t.Helper()
	_, ds := Parse([]Input{{Name: "r.cfg", Data: []byte(cfg)}}, Options{})
	got := ""
	if len(ds) > 0 {
		got = ds[0].Text()
	}
	if want == "" && ds.HasErrors() || want != "" && !strings.Contains(got, want) {
		t.Errorf("%q: got %v, want %q", cfg, ds, want)
	}
}

func TestServerResolveOptions(t *testing.T) {
	cases := []struct{ opts, want string }{
		{"resolve-prefer ipv6", ""},
		{"resolve-prefer ipv5", "'resolve-prefer' expects either ipv4 or ipv6 as argument.."},
		{"resolve-net 10.0.0.0/8,1.2.3.4", ""},
		{"resolve-net 10.0.0.0/8,x", "'resolve-net' invalid network 'x'.."},
		{"resolve-net 1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8", "'resolve-net' exceed 5 networks."},
		{"resolve-opts prevent-dup-ip", ""},
		{"resolve-opts dup", "unknown resolve-opts option 'dup'"},
		{"init-addr none,libc,last,10.0.0.1", ""},
		{"init-addr dns", "unknown init-addr method 'dns'"},
		{"init-addr 10.0.0.1,10.0.0.2", "initial address already specified, cannot add '10.0.0.2'."},
		{"resolvers r", ""},
	}
	for _, tc := range cases {
		checkFirstDiag(t, "backend be\n  server s app:80 "+tc.opts+"\n", tc.want)
	}
}

func TestServerTemplateArgs(t *testing.T) {
	cases := []struct {
		line  string
		names []string
		want  string
	}{
		{"server-template w 3 app:80", []string{"w1", "w2", "w3"}, ""},
		{"server-template w 0-1 app:80", []string{"w0", "w1"}, ""},
		{"server-template w 2x _http._tcp.app resolvers r", []string{"w1", "w2"}, ""},
		{"server-template w 3", nil, "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments."},
		{"server-template w 3-1 app:80", nil, "Wrong server-template number or range arg '3-1'."},
		{"server-template w -3 app:80", nil, "Wrong server-template number or range arg '-3'."},
		{"server-template w! 3 app:80", nil, "character '!' is not permitted in server-template prefix 'w!'."},
		{"server-template w 3 app:80 weight 300", nil, "'server be/(null)' : weight of server (null) is not within 0 and 256 (300).."},
	}
	for _, tc := range cases {
		c, ds := Parse([]Input{{Name: "s.cfg", Data: []byte("backend be\n  " + tc.line + "\n")}}, Options{})
		if tc.want != "" {
			if len(ds) == 0 || !strings.Contains(ds[0].Text(), tc.want) {
				t.Errorf("%q: got %v, want %q", tc.line, ds, tc.want)
			}
			continue
		}
		if ds.HasErrors() {
			t.Errorf("%q: %v", tc.line, ds)
			continue
		}
		var names []string
		for _, s := range c.Proxies[0].Servers {
			names = append(names, s.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.names, ",") {
			t.Errorf("%q: servers %v, want %v", tc.line, names, tc.names)
		}
	}
}
