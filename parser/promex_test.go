package parser

import "testing"

// use-service runs the Prometheus exporter; a Lua service stays refused.
func TestUseServiceForms(t *testing.T) {
	cfg, ds := Parse([]Input{{Name: "c.cfg", Data: []byte("frontend fe\n mode http\n bind :8405\n" +
		" http-request use-service prometheus-exporter if { path /metrics }\n" +
		" http-request use-service prometheus-exporter\n" +
		" http-request use-service lua.hello\n")}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rules := cfg.Proxies[0].HTTPRequestRules
	if len(rules) != 3 {
		t.Fatalf("%d rules", len(rules))
	}
	for i, want := range []string{"", "", "'http-request use-service lua.hello' is not supported by the gohap runtime yet."} {
		r := rules[i]
		if r.Action != "use-service" || r.Refused != want {
			t.Errorf("rule %d: action %q refused %q, want %q", i, r.Action, r.Refused, want)
		}
	}
	if c := rules[0].Cond; len(c) != 5 || c[0] != "if" {
		t.Errorf("condition %q", c)
	}
	if n := len(cfg.Refusals()); n != 1 {
		t.Errorf("%d refusals, want 1: %+v", n, cfg.Refusals())
	}
}

// The use-service lines HAProxy 2.6.12 refuses, with its messages.
func TestUseServiceErrors(t *testing.T) {
	for line, want := range map[string]string{
		"http-request use-service":                            "error detected in frontend 'fe' while parsing 'http-request use-service' rule : 'use-service' expects a service name..",
		"http-request use-service nope":                       "error detected in frontend 'fe' while parsing 'http-request use-service' rule : 'nope' unknown service name..",
		"http-request use-service prometheus-exporter foo":    "'http-request use-service' expects either 'if' or 'unless' followed by a condition but found 'foo'.",
		"tcp-request content use-service":                     "'tcp-request' expects a service name.",
		"tcp-request content use-service nope":                "'content' unknown service name.",
		"tcp-request content use-service prometheus-exporter": "Prometheus exporter service only available on 'http-request' rulesets",
		// A Lua script may register the service: gohap cannot tell.
		"http-request use-service lua.svc": "",
		// With no script loaded, no Lua service exists.
		"tcp-request content use-service lua.svc": "'content' unknown service name.",
	} {
		_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte("frontend fe\n mode http\n bind :8405\n " + line + "\n")}}, Options{})
		var got []string
		for _, d := range ds {
			if d.Severity == Alert {
				got = append(got, d.Msg)
			}
		}
		if want == "" && len(got) > 0 || want != "" && (len(got) == 0 || got[0] != want) {
			t.Errorf("%s: alerts %q, want %q", line, got, want)
		}
	}
}
