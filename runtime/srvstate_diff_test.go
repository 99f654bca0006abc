package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime"
)

const stateHeader = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"

// Backends loading a server-state file start their servers in the saved
// states (down, stopping, maintenance, drain, weight, check status),
// with HAProxy's warnings for what changed and for what could not be
// read; "show servers state" then answers as HAProxy's does.
func TestServerStateFileDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for server-state files")
	}
	dir := t.TempDir()
	line := func(be, id, name, op, admin, uw, iw string) string {
		return fmt.Sprintf("3 %s %s %s 127.0.0.1 %s %s %s %s 100 6 3 4 6 0 0 0 - 18090 - 0 0 - - 0\n", be, id, name, op, admin, uw, iw)
	}
	global := stateHeader + line("b", "1", "s1", "2", "1", "1", "1") + line("b", "2", "s2", "0", "0", "5", "1") +
		line("b", "3", "s3", "3", "0", "1", "1") + line("b", "4", "s4", "1", "0", "1", "1") + line("b", "5", "s5", "x", "0", "1", "1") +
		line("b", "6", "s6", "2", "4", "1", "1") + line("b", "7", "s7", "0", "0", "1", "1") + line("b", "8", "s8", "0", "0", "1", "1") +
		line("b", "9", "s9", "2", "8", "1", "1") + line("b", "10", "s10", "2", "0", "7", "2")
	local := stateHeader + line("4", "1", "l1", "0", "0", "1", "1") + line("x", "2", "l2", "0", "0", "1", "1") +
		line("other", "1", "l3", "0", "0", "1", "1") + line("loc", "3", "gone", "2", "0", "1", "1")
	os.WriteFile(filepath.Join(dir, "global.state"), []byte(global), 0o644)
	os.WriteFile(filepath.Join(dir, "loc"), []byte(local), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.state"), []byte("2\n"), 0o644)
	run := func(name string, start func(cfg, fe string) string) ([]string, string) {
		fe := freePort(t)
		sock := filepath.Join(dir, name+".sock")
		cfg := fmt.Sprintf(`global
 server-state-base %s
 server-state-file global.state
 stats socket %s level admin
defaults
 mode http
 timeout connect 1s
 timeout client 5s
 timeout server 5s
 load-server-state-from-file global
frontend f
 bind %s
 default_backend b
backend b
 server s1 127.0.0.1:18090
 server s2 127.0.0.1:18090
 server s3 127.0.0.1:18090
 server s4 127.0.0.1:18090
 server s5 127.0.0.1:18090
 server s6 127.0.0.1:18090
 server s7 127.0.0.1:18090 disabled
 server s8 127.0.0.1:18090 backup
 server s9 127.0.0.1:18090
 server s10 127.0.0.1:18090 weight 2
backend loc
 load-server-state-from-file local
 server l1 127.0.0.1:18090
 server l2 127.0.0.1:18090
 server l3 127.0.0.1:18090
backend badv
 load-server-state-from-file local
 server-state-file-name bad.state
 server v1 127.0.0.1:18090
backend missing
 load-server-state-from-file local
 server-state-file-name nope.state
 server m1 127.0.0.1:18090
`, dir, sock, fe)
		warnings := start(cfg, fe)
		// The last change is seconds ago: HAProxy and gohap round it
		// apart.
		state := regexp.MustCompile(`(?m)^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ `).ReplaceAllString(
			cliSend(t, "unix", sock, "show servers state\n"), "$1 T ")
		return strings.Split(strings.TrimSpace(warnings), "\n"), state
	}
	warnRe := regexp.MustCompile(`\[WARNING\] +\(\d+\) : config : (.*)`)
	refW, refS := run("h", func(cfg, fe string) string {
		out := startHAProxyOut(t, cfg, fe)
		time.Sleep(200 * time.Millisecond)
		var w []string
		for _, m := range warnRe.FindAllStringSubmatch(out.String(), -1) {
			w = append(w, m[1])
		}
		return strings.Join(w, "\n")
	})
	gotW, gotS := run("g", func(cfg, fe string) string {
		inputs, err := parser.ReadInputs([]string{writeCfg(t, cfg)})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := parser.Parse(inputs, parser.Options{})
		var w []string
		for _, d := range runtime.Check(c, runtime.CheckOptions{}).Diags {
			if d.Severity == parser.Warning {
				w = append(w, d.Msg)
			}
		}
		startGohap(t, cfg, nil)
		return strings.Join(w, "\n")
	})
	t.Logf("warnings: %d of %d agree", sameLines(t, refW, gotW), len(refW))
	if gotS != refS {
		t.Errorf("show servers state:\nhaproxy:\n%s\ngohap:\n%s", refS, gotS)
	}
}
