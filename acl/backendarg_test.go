package acl_test

import (
	"testing"

	"github.com/gohap/gohap/acl"
)

type oneBackend string

func (b oneBackend) HasBackend(name string) bool   { return name == string(b) }
func (b oneBackend) HasServer(px, srv string) bool { return px == string(b) }

// A backend argument is optional (none is the stream's backend) and, when
// given, must name a backend.
func TestBackendArgResolution(t *testing.T) {
	ctx := &acl.Context{Proxy: "fe", Servers: oneBackend("be")}
	for expr, want := range map[string]string{
		"be_conn":         "",
		"nbsrv":           "",
		"queue(be)":       "",
		"connslots(nope)": "unable to find backend 'nope' referenced in arg 1 of sample fetch keyword 'connslots'",
	} {
		_, err := acl.CompileSampleWith(expr, ctx)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%s: %q, want %q", expr, got, want)
		}
	}
}

type feAndBackend struct{ oneBackend }

func (feAndBackend) HasFrontend(name string) bool { return name == "fe" }

// A backend (frontend) fetch without argument designates the expression's
// proxy, which must have that capability; a named frontend must exist.
func TestProxyCapabilityArgs(t *testing.T) {
	for _, c := range []struct {
		expr        string
		noBE, noFE  bool
		want, after string
	}{
		{"nbsrv", true, false, "proxy 'px', referenced in arg 1 of sample fetch keyword 'nbsrv'", ", has not backend capability"},
		{"be_conn()", true, false, "proxy 'px', referenced in arg 1 of sample fetch keyword 'be_conn'", ", has not backend capability"},
		{"be_conn(be)", true, false, "", ""},
		{"queue", false, true, "", ""},
		{"fe_conn", false, true, "proxy 'px', referenced in arg 1 of sample fetch keyword 'fe_conn'", ", has not frontend capability"},
		{"fe_req_rate(fe)", false, true, "", ""},
		{"fe_sess_rate(be)", false, false, "unable to find frontend 'be' referenced in arg 1 of sample fetch keyword 'fe_sess_rate'", ""},
	} {
		ctx := &acl.Context{Proxy: "px", Servers: feAndBackend{"be"}, NoBackend: c.noBE, NoFrontend: c.noFE}
		_, err := acl.CompileSampleWith(c.expr, ctx)
		got, after := "", ""
		if err != nil {
			got = err.Error()
			if re, ok := err.(*acl.ResolveError); ok {
				after = re.Suffix()
			}
		}
		if got != c.want || after != c.after {
			t.Errorf("%s: %q %q, want %q %q", c.expr, got, after, c.want, c.after)
		}
	}
}
