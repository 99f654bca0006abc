package parser

import "testing"

func TestCacheModel(t *testing.T) {
	cfg := `cache small
  total-max-size 4
cache big
  total-max-size 64
  max-age 300
  max-object-size 1048576
  process-vary on
  max-secondary-entries 3
backend be
  http-request cache-use big if { path_beg /s }
  http-response cache-store big
`
	c, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	s, b := FindCache(c, "small"), FindCache(c, "big")
	if s == nil || b == nil || FindCache(c, "nope") != nil {
		t.Fatalf("caches: %+v", c.Caches)
	}
	if s.Blocks != 4096 || s.MaxAge != 60 || s.MaxObjectSize != 16384 || s.ProcessVary || s.MaxSecondaryEntries != 10 {
		t.Errorf("defaults: %+v", s)
	}
	if b.Blocks != 65536 || b.MaxAge != 300 || b.MaxObjectSize != 1048576 || !b.ProcessVary || b.MaxSecondaryEntries != 3 {
		t.Errorf("settings: %+v", b)
	}
	p := c.Proxies[0]
	if r := p.HTTPRequestRules[0]; r.Action != "cache-use" || r.Cache != "big" || r.Refused != "" || len(r.Cond) == 0 {
		t.Errorf("cache-use: %+v", r)
	}
	if r := p.HTTPResponseRules[0]; r.Action != "cache-store" || r.Cache != "big" || r.Refused != "" {
		t.Errorf("cache-store: %+v", r)
	}
	if d := CacheRefDiags(c, p); len(d) != 0 {
		t.Errorf("known cache reported: %v", d)
	}
}

// TestCacheLines: the messages are those of haproxy -c 2.6.12 for the
// same lines.
func TestCacheLines(t *testing.T) {
	cases := []struct{ lines, want string }{
		{"total-max-size 1", ""},
		{"total-max-size 4095", ""},
		{"total-max-size 4096", `parsing [r.cfg:2]: "total-max-size" (4096) must not be greater than 4095`},
		{"total-max-size x", "parsing [r.cfg:2]: total-max-size wrong value 'x'"},
		{"total-max-size -1", `"total-max-size" (-1) must not be greater than 4095`},
		{"total-max-size 4 5", "parsing [r.cfg:2] : 'total-max-size' cannot handle unexpected argument '5'."},
		{"total-max-size 0", "Size not specified for cache 'c'"},
		{"max-age 5", "Size not specified for cache 'c'"},
		{"total-max-size 1\n max-object-size 600000", `"max-object-size" is limited to an half of "total-max-size" => 524288`},
		{"total-max-size 1\n max-object-size y", "max-object-size wrong value 'y'"},
		{"total-max-size 1\n max-object-size", "'max-object-size' expects a maximum file size parameter in bytes."},
		{"total-max-size 1\n max-age", "'max-age' expects an age parameter in seconds."},
		{"total-max-size 1\n process-vary yes", `'process-vary' expects "on" or "off" (enable or disable vary processing).`},
		{"total-max-size 1\n max-secondary-entries 0", "max-secondary-entries wrong value '0'"},
		{"total-max-size 1\n maxage 3", "unknown keyword 'maxage' in 'cache' section"},
		{"total-max-size 1\ncache c", "parsing [r.cfg:3]: Duplicate cache name 'c'."},
	}
	for _, tc := range cases {
		checkFirstDiag(t, "cache c\n "+tc.lines+"\n", tc.want)
	}
	checkFirstDiag(t, "cache\n", "'cache' expects a <name> argument")
	checkFirstDiag(t, "cache c123456789012345678901234567890123\n total-max-size 1\n",
		"cache name is limited to 32 characters, truncate to 'c1234567890123456789012345678901'.")
}

func TestCacheRules(t *testing.T) {
	base := "cache c\n total-max-size 1\nbackend b\n "
	checkFirstDiag(t, base+"http-request cache-use c\n", "")
	checkFirstDiag(t, base+"http-request cache-use\n", "error detected in backend 'b' while parsing 'http-request cache-use' rule : expects a cache name.")
	checkFirstDiag(t, base+"http-response cache-store if TRUE\n", "while parsing 'http-response cache-store' rule : expects a cache name.")
	checkFirstDiag(t, base+"http-request cache-use c foo\n", "'http-request cache-use' expects either 'if' or 'unless' followed by a condition but found 'foo'.")
	c, _ := Parse([]Input{{Name: "r.cfg", Data: []byte(base + "http-request cache-use x\n http-response cache-store c\n http-response cache-store y\n")}}, Options{})
	d := CacheRefDiags(c, c.Proxies[0])
	if len(d) != 2 || d[0].Msg != "config: backend 'b': unable to find the cache 'x' referenced by the filter 'cache'." ||
		d[1].Msg != "config: backend 'b': unable to find the cache 'y' referenced by the filter 'cache'." {
		t.Errorf("unknown caches: %v", d)
	}
}
