package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExternalCheckDifferential: option external-check runs its command
// with HAProxy's arguments and environment (and no new privileges
// without insecure-setuid-wanted); its exit status, or its timeout, makes
// the server's state and check status. Side by side with HAProxy: what
// the command saw, and show stat's status, check_status and check_code
// after a pass, a failure and a timeout.
func TestExternalCheckDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	// Each check runs the script, which starts several processes: under
	// load that took more than a 200 ms interval, the check's timeout,
	// and a check meant to fail timed out instead.
	cases := []struct{ name, global, section string }{
		{"plain", "insecure-fork-wanted", "backend b\n    server s1 127.0.0.1:%s check inter 1s rise 1 fall 1"},
		{"setuid", "insecure-fork-wanted\n    insecure-setuid-wanted", "backend b\n    server s1 127.0.0.1:%s check inter 1s rise 1 fall 1"},
		{"listen", "insecure-fork-wanted", "listen b\n    bind 127.0.0.1:%s\n    server s1 127.0.0.1:%s check inter 1s rise 1 fall 1 maxconn 7 ssl verify none"},
		{"no-fork-root", "", "backend b\n    timeout check 5s\n    server s1 [::1]:%s check inter 300ms rise 1 fall 1 proto h2"},
	}
	run := func(t *testing.T, global, section string, start func(cfg, addr string)) []string {
		dir := t.TempDir()
		script := filepath.Join(dir, "chk.sh")
		os.WriteFile(filepath.Join(dir, "code"), []byte("0"), 0o644)
		os.WriteFile(script, []byte(fmt.Sprintf(`#!/bin/sh
d=%s
{ echo "args:$*"; env | grep -v '^PWD=' | sort; grep NoNewPrivs /proc/self/status; } > $d/seen.tmp
mv $d/seen.tmp $d/seen
c=$(cat $d/code)
[ "$c" = sleep ] && exec sleep 5
exit $c
`, dir)), 0o755)
		sock := filepath.Join(dir, "s.sock")
		fe := freePort(t)
		sec, lport := section, "-"
		if strings.Count(sec, "%s") == 2 {
			lport = freePort(t)[len("127.0.0.1:"):]
			sec = fmt.Sprintf(sec, lport, "1")
		} else {
			sec = fmt.Sprintf(sec, "1")
		}
		start(fmt.Sprintf(`global
    stats socket %s level admin
    external-check
    %s
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend f
    bind %s
    default_backend b
%s
    option external-check
    external-check path /usr/bin:/bin
    external-check command %s
`, sock, global, fe, sec, script), fe)
		waitUnixSocket(sock)
		var out []string
		for _, phase := range []struct{ code, want string }{{"0", "PROCOK"}, {"3", "PROCERR"}, {"sleep", "PROCTOUT"}, {"0", "PROCOK"}} {
			os.WriteFile(filepath.Join(dir, "code"), []byte(phase.code), 0o644)
			// The check's status shows before the state change it brings
			// (HAProxy applies that in a task of its own): the reading
			// is taken once two in a row agree.
			got, prev := "", ""
			for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				got = checkState(cliSend(t, "unix", sock, "show stat\n"))
				if strings.Contains(got, " "+phase.want+" ") && got == prev {
					break
				}
				prev = got
			}
			out = append(out, got)
			if phase.code == "0" && len(out) == 1 {
				seen, _ := os.ReadFile(filepath.Join(dir, "seen"))
				// The listen section's port differs from run to run.
				out = append(out, strings.ReplaceAll(string(seen), lport, "LPORT"))
			}
		}
		return out
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := run(t, c.global, c.section, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := run(t, c.global, c.section, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			// The scripts' directories differ.
			for i := range g {
				if g[i] != h[i] {
					t.Errorf("step %d:\ngohap:   %q\nhaproxy: %q", i, g[i], h[i])
				}
			}
		})
	}
}

// checkState is status, check_status and check_code of b/s1 in "show stat".
func checkState(out string) string {
	r := statRow(out, "b", "s1")
	if r == nil {
		return ""
	}
	// "* " marks a check in progress at that instant, which timing
	// decides: it is left out.
	return r["status"] + " " + strings.TrimPrefix(r["check_status"], "* ") + " " + r["check_code"] + " "
}
