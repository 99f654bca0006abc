package parser

import "testing"

// use-service runs the Prometheus exporter; any other service, or words
// after the service name, stay refused.
func TestUseServiceForms(t *testing.T) {
	cfg, ds := Parse([]Input{{Name: "c.cfg", Data: []byte("frontend fe\n mode http\n bind :8405\n" +
		" http-request use-service prometheus-exporter if { path /metrics }\n" +
		" http-request use-service prometheus-exporter\n" +
		" http-request use-service lua.hello\n" +
		" http-request use-service prometheus-exporter extra\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rules := cfg.Proxies[0].HTTPRequestRules
	if len(rules) != 4 {
		t.Fatalf("%d rules", len(rules))
	}
	for i, want := range []string{"", "", "'http-request use-service lua.hello' is not supported by the gohap runtime yet.",
		"'http-request use-service prometheus-exporter extra' is not supported by the gohap runtime yet."} {
		r := rules[i]
		if r.Action != "use-service" || r.Refused != want {
			t.Errorf("rule %d: action %q refused %q, want %q", i, r.Action, r.Refused, want)
		}
	}
	if c := rules[0].Cond; len(c) != 5 || c[0] != "if" {
		t.Errorf("condition %q", c)
	}
	if n := len(cfg.Refusals()); n != 2 {
		t.Errorf("%d refusals, want 2: %+v", n, cfg.Refusals())
	}
}
