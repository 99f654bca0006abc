package parser

import (
	"reflect"
	"strings"
	"testing"
)

// TestProcessKeywords reads the process settings and HAProxy's messages
// for their misuse.
func TestProcessKeywords(t *testing.T) {
	cfg, diags := Parse([]Input{{Name: "p.cfg", Data: []byte("global\n daemon\n master-worker no-exit-on-failure\n pidfile /run/x.pid\n chroot /var/empty\n" +
		" uid 99\n gid 98\n ulimit-n 4096\n setenv A b\n presetenv C d\n unsetenv E\n resetenv A C\n gohap-reload new-worker\n")}}, Options{})
	if diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	want := Process{Pidfile: "/run/x.pid", MasterWorker: true, NoExitOnFailure: true, Chroot: "/var/empty", UID: 99, GID: 98, UlimitN: 4096,
		Env: [][]string{{"setenv", "A", "b"}, {"presetenv", "C", "d"}, {"unsetenv", "E"}, {"resetenv", "A", "C"}}, Reload: "new-worker"}
	if !cfg.Global.Daemon || !reflect.DeepEqual(cfg.Global.Process, want) {
		t.Errorf("got %+v", cfg.Global.Process)
	}
	for _, c := range []struct{ in, msg string }{
		{"uid abc", " uid: string 'abc' is not a number.\n   | You might want to use the 'user' parameter to use a system user name."},
		{"master-worker foo", "'master-worker' only supports 'no-exit-on-failure' option."},
		{"chroot", "'chroot' expects a directory as an argument."},
		{"chroot /a\n chroot /b", "'chroot' already specified. Continuing."},
		{"uid 5\n user root", "user/uid already specified. Continuing."},
		{"group root\n gid 5", "group/gid already specified. Continuing."},
		{"ulimit-n", "'ulimit-n' expects an integer argument."},
		{"gohap-reload", "'gohap-reload' expects 'in-process' or 'new-worker'."},
		{"gohap-reload sometimes", "'gohap-reload' expects 'in-process' or 'new-worker'."},
	} {
		_, diags := Parse([]Input{{Name: "p.cfg", Data: []byte("global\n " + c.in + "\n")}}, Options{})
		found := false
		for _, d := range diags {
			found = found || strings.Contains(d.Msg, c.msg)
		}
		if !found {
			t.Errorf("%q: no %q in %v", c.in, c.msg, diags)
		}
	}
}
