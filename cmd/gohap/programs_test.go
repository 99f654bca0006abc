package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// progSection returns show proc's program lines (pid, name, reloads) of
// one section ("# programs" or "# old programs").
func progSection(show, section string) map[string]string {
	out := map[string]string{}
	in := false
	for _, l := range strings.Split(show, "\n") {
		if strings.HasPrefix(l, "#") {
			in = l == section
			continue
		}
		if f := strings.Fields(l); in && len(f) == 5 && f[4] == "-" {
			out[f[1]] = f[0] + " " + f[2]
		}
	}
	return out
}

// The master runs the program sections: show proc lists them; a reload
// starts a program again (the old one is signalled and listed as old
// until it ends) unless "no option start-on-reload" keeps it; the master
// stops them with its workers.
func TestPrograms(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	sock := filepath.Join(dir, "m.sock")
	// "trap" makes the restarted program outlive the reload's signal for
	// a moment, so that show proc lists it as old.
	body := lbCfg(addr, "127.0.0.1:9") +
		"program again\n command sh -c \"trap 'sleep 1; exit 0' USR1; while :; do sleep 0.1; done\"\n" +
		"program kept\n command sleep 60\n no option start-on-reload\n"
	cfg := writeCfg(t, dir, "p.cfg", body)
	p := startGohap(t, "-W", "-S", sock, "-f", cfg)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.wait(t, 10*time.Second)
	}()
	cur := progSection(masterCmd(t, sock, "show proc"), "# programs")
	if len(cur) != 2 || !strings.HasSuffix(cur["again"], " 0") || !strings.HasSuffix(cur["kept"], " 0") {
		t.Fatalf("show proc programs: %v\n%s", cur, p.stderr)
	}
	keptPid, _ := strconv.Atoi(strings.Fields(cur["kept"])[0])
	againPid, _ := strconv.Atoi(strings.Fields(cur["again"])[0])
	p.cmd.Process.Signal(syscall.SIGUSR2)
	deadline := time.Now().Add(10 * time.Second)
	var show string
	for {
		show = masterCmd(t, sock, "show proc")
		a := progSection(show, "# programs")["again"]
		if strings.Contains(show, "1 [failed: 0]") && a != "" && !strings.HasPrefix(a, strconv.Itoa(againPid)+" ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload:\n%s\n%s", show, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cur, old := progSection(show, "# programs"), progSection(show, "# old programs")
	if cur["kept"] != fmt.Sprintf("%d 1", keptPid) {
		t.Errorf("kept program: %q, want pid %d with 1 reload\n%s", cur["kept"], keptPid, show)
	}
	if cur["again"] == "" || strings.HasPrefix(cur["again"], strconv.Itoa(againPid)+" ") || !strings.HasSuffix(cur["again"], " 0") {
		t.Errorf("restarted program: %q (old pid %d)\n%s", cur["again"], againPid, show)
	}
	if old["again"] != fmt.Sprintf("%d 1", againPid) {
		t.Errorf("old programs: %v\n%s", old, show)
	}
	if !gone(againPid, 5*time.Second) {
		t.Errorf("the old program %d still runs", againPid)
	}
	want := regexp.MustCompile(`\[WARNING\]  \(\d+\) : Former program 'again' \(` + strconv.Itoa(againPid) + `\) exited with code 0 \(Exit\)`)
	deadline = time.Now().Add(5 * time.Second)
	for !want.MatchString(p.stderr.String()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !want.MatchString(p.stderr.String()) {
		t.Errorf("no former program report:\n%s", p.stderr)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(t, 10*time.Second)
	if !gone(keptPid, 5*time.Second) {
		t.Errorf("program %d outlives the master", keptPid)
	}
}

// A program that fails ends every process, as a failed worker does, with
// HAProxy's messages and exit status. HAProxy alongside.
func TestProgramFailure(t *testing.T) {
	run := func(bin string) string {
		dir := t.TempDir()
		addr := freeAddr(t)
		cfg := writeCfg(t, dir, "f.cfg", lbCfg(addr, "127.0.0.1:9")+
			"program fails\n command sh -c \"sleep 0.5; exit 3\"\n")
		var p *proc
		if bin == "" {
			p = startGohap(t, "-W", "-f", cfg)
		} else {
			p = startBin(t, bin, "-W", "-f", cfg)
		}
		code := p.wait(t, 10*time.Second)
		var lines []string
		for _, l := range strings.Split(p.stderr.String(), "\n") {
			if strings.HasPrefix(l, "[") && !strings.Contains(l, "haproxy version is") && !strings.Contains(l, "path to executable") {
				lines = append(lines, regexp.MustCompile(`\d+`).ReplaceAllString(l, "N"))
			}
		}
		return fmt.Sprintf("exit %d\n%s", code, strings.Join(lines, "\n"))
	}
	got := run("")
	if !strings.HasPrefix(got, "exit 3\n") || !strings.Contains(got, "Current program 'fails' (N) exited with code N (Exit)") {
		t.Errorf("gohap:\n%s", got)
	}
	if bin := os.Getenv("HAPROXY_BIN"); bin != "" {
		if ref := run(bin); ref != got {
			t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, ref)
		}
	} else {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no side-by-side run")
	}
}
