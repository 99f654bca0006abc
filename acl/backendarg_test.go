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
