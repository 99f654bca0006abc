package parser

import (
	"os/user"
	"strings"
	"testing"
)

// unix-bind's prefix, mode and ids reach every bind line after it, which
// its own mode, uid, gid, user and group override.
func TestUnixBindDefaults(t *testing.T) {
	root, err := user.LookupId("0")
	if err != nil {
		t.Skip("no user 0:", err)
	}
	cfg := "global\n unix-bind prefix /run/x/ mode 640 uid 12 gid 34\n" +
		"frontend fe\n bind /a.sock\n bind unix@b.sock mode 600 user " + root.Username + "\n bind abns@c gid 7\n"
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	ub := c.Global.UnixBind
	if ub.Prefix != "/run/x/" || ub.Perms != (UnixPerms{Mode: 0o640, UID: 12, GID: 34, HasUID: true, HasGID: true}) {
		t.Fatalf("unix-bind: %+v", ub)
	}
	binds := c.Proxies[0].Binds
	want := []UnixPerms{
		{Mode: 0o640, UID: 12, GID: 34, HasUID: true, HasGID: true},
		{Mode: 0o600, UID: 0, GID: 34, HasUID: true, HasGID: true},
		{Mode: 0o640, UID: 12, GID: 7, HasUID: true, HasGID: true},
	}
	for i, b := range binds {
		if b.Unix != want[i] {
			t.Errorf("bind %s: %+v, want %+v", b.Address, b.Unix, want[i])
		}
	}
}

// Bad unix socket settings and addresses are refused with HAProxy's
// messages (checked against haproxy -c 2.6).
func TestUnixAddressErrors(t *testing.T) {
	long := "/tmp/" + strings.Repeat("a", 95)
	abns := "abns@" + strings.Repeat("a", 108)
	for cfg, want := range map[string]string{
		"frontend fe\n bind /tmp/s mode 9x":          "parsing [p.cfg:2] : 'bind /tmp/s' in section 'frontend' : 'mode' : missing or invalid mode '9x' (octal integer expected)",
		"frontend fe\n bind /tmp/s uid":              "parsing [p.cfg:2] : 'bind /tmp/s' in section 'frontend' : 'uid' : missing value",
		"frontend fe\n bind /tmp/s user nosuchuserx": "parsing [p.cfg:2] : 'bind /tmp/s' in section 'frontend' : 'user' : unknown user name 'nosuchuserx'",
		"frontend fe\n bind /tmp/s group nosuchgrpx": "parsing [p.cfg:2] : 'bind /tmp/s' in section 'frontend' : 'group' : unknown group name 'nosuchgrpx'",
		"frontend fe\n bind " + long:                 "parsing [p.cfg:2] : 'bind' : socket path '" + long + "' too long (max 97)",
		"frontend fe\n bind " + abns:                 "parsing [p.cfg:2] : 'bind' : socket path '" + abns + "' too long (max 107)",
		"frontend fe\n bind sockpair@x":              "parsing [p.cfg:2] : 'bind' : file descriptor 'x' is not a valid integer in 'sockpair@x'",
		"frontend fe\n bind sockpair@987":            "parsing [p.cfg:2] : 'bind' : cannot use file descriptor '987' : Bad file descriptor.",
		"frontend fe\n bind fd@987":                  "parsing [p.cfg:2] : 'bind' : cannot use file descriptor '987' : Bad file descriptor.",
		"frontend fe\n bind rel.sock":                "parsing [p.cfg:2] : 'bind' : missing port specification in 'rel.sock'",
		"frontend fe\n bind uxdg@/tmp/dg":            "parsing [p.cfg:2] : 'bind' : dgram-type address not acceptable in 'uxdg@/tmp/dg'",
		"frontend fe\n bind udp@:8899":               "parsing [p.cfg:2] : 'bind' : dgram-type address not acceptable in 'udp@:8899'",
		"backend be\n server s " + long:              "[p.cfg:2] : 'server be/s' : socket path '" + long + "' too long (max 97)",
		"backend be\n server s fd@1":                 "[p.cfg:2] : 'server be/s' : a file descriptor is not acceptable here in 'fd@1'",
		"backend be\n server s udp@1.2.3.4:5":        "[p.cfg:2] : 'server be/s' : dgram-type address not acceptable in 'udp@1.2.3.4:5'",
		"global\n unix-bind foo 1":                   "parsing [p.cfg:2] : 'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.",
		"global\n unix-bind prefix":                  "parsing [p.cfg:2] : unix_bind 'prefix' expects a path as an argument.",
		"global\n unix-bind user nosuchuserx":        "parsing [p.cfg:2] : 'unix-bind' : 'nosuchuserx' unknown user.",
	} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg + "\n")}}, Options{})
		if !ds.HasErrors() || ds[0].Text() != want {
			t.Errorf("%q: %v, want %q", cfg, ds, want)
		}
	}
	// The prefix counts in a named socket's length, not an abstract one's.
	pfx := "global\n unix-bind prefix /0123456789/\nfrontend fe\n bind "
	for addr, bad := range map[string]bool{"/tmp/" + strings.Repeat("a", 80): false, "/tmp/" + strings.Repeat("a", 81): true, "abns@" + strings.Repeat("a", 107): false} {
		_, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(pfx + addr + "\n")}}, Options{})
		if ds.HasErrors() != bad {
			t.Errorf("%s (%d): errors %v, want %v", addr, len(addr), ds, bad)
		}
	}
}
