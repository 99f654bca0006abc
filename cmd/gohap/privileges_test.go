package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	privNotice = regexp.MustCompile(`(haproxy version is|path to executable is) .*`)
	privMain   = regexp.MustCompile(`\[[^\]]*\.main\(\)\]`)
	privWorker = regexp.MustCompile(`worker \(\d+\)`)
)

// privOutcome runs bin on cfg (a format of the frontend's address) with
// args, as uid when not -1, and tells how it ended: "serving" once the
// frontend answers, else its exit code, with the HAProxy-style lines it
// printed, pids, program path and version masked.
func privOutcome(t *testing.T, bin, dir, cfg string, uid int, args ...string) string {
	t.Helper()
	// Below the ephemeral range and claimed across test binaries: a
	// port released from a listen on :0 could be taken by an outgoing
	// connection before the process binds it.
	fe := freeAddr(t)
	file := filepath.Join(dir, fmt.Sprintf("p%d.cfg", time.Now().UnixNano()))
	if err := os.WriteFile(file, []byte(fmt.Sprintf(cfg, fe)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "-f", file)...)
	cmd.Dir = dir
	// Its own process group, so that a master's workers stop with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if uid >= 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}
	}
	// A file, not a pipe: what the process wrote before it answered a
	// request is there when the answer is, with no copier to wait for.
	outFile, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	output := func() string {
		b, _ := os.ReadFile(outFile.Name())
		return string(b)
	}
	cmd.Stdout, cmd.Stderr = outFile, outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}()
	state := "did not start"
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-done:
			state = fmt.Sprintf("exit %d", cmd.ProcessState.ExitCode())
		default:
			// A served request proves the start-up checks passed: both
			// accept only after them.
			if c, err := net.DialTimeout("tcp", fe, 100*time.Millisecond); err == nil {
				c.SetDeadline(time.Now().Add(time.Second))
				io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
				b, _ := io.ReadAll(c)
				c.Close()
				if bytes.HasPrefix(b, []byte("HTTP/1.")) && bytes.Contains(b, []byte(" 200 ")) {
					state = "serving"
				}
			}
		}
		if state != "did not start" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if state == "serving" && slices.Contains(args, "-W") {
		// A master reports its worker once told it serves: the worker
		// may answer a request a moment before.
		for deadline := time.Now().Add(2 * time.Second); !strings.Contains(output(), "Loading success.") && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	var lines []string
	for _, l := range alertLinesNotices(output()) {
		l = privNotice.ReplaceAllString(l, "$1 X")
		l = privWorker.ReplaceAllString(l, "worker (PID)")
		lines = append(lines, privMain.ReplaceAllString(l, "[BIN.main()]"))
	}
	if len(lines) > 0 && !slices.ContainsFunc(lines, func(l string) bool { return !strings.HasPrefix(l, "[NOTICE]") }) {
		// Only notices: the master's about its worker, which gohap
		// prefixes with the version notices HAProxy prints before a
		// first alert or warning only. Not what is compared here.
		lines = nil
	}
	return state + "\n" + strings.Join(lines, "\n")
}

// alertLinesNotices is alertLines with the NOTICE lines kept.
func alertLinesNotices(out string) []string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "[NOTICE]") {
			keep = append(keep, pidRe.ReplaceAllString(l, "${1}(PID)"))
		} else if a := alertLines(l); len(a) > 0 {
			keep = append(keep, a...)
		}
	}
	return keep
}

// Options needing network administration privileges (usesrc, interface,
// set-mark) with a user to run as make run refuse to start with HAProxy's
// alert and exit code; started as another user than root it warns. Each
// configuration runs under both binaries, as root when the tests run as
// root, and as an unprivileged user.
func TestPrivilegesDifferential(t *testing.T) {
	hap := haproxyBin()
	if hap == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare with")
	}
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Readable and runnable by the unprivileged user.
	dir, err := os.MkdirTemp("", "gohap-priv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "gohap")
	if b, err := os.ReadFile(bin); err != nil || os.WriteFile(exe, b, 0o755) != nil {
		t.Fatalf("copying %s: %v", bin, err)
	}
	const timeouts = " timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
	// fe is the frontend with rules before the one that answers.
	fe := func(rules string) string {
		return "frontend fe\n mode http\n bind %[1]s\n" + rules + " http-request return status 200\n"
	}
	base := "defaults\n mode http\n" + timeouts
	cases := []struct{ name, cfg string }{
		{"usesrc with uid", "global\n uid 65534\n" + base + fe("") + "backend be\n server s 127.0.0.1:9 source 0.0.0.0 usesrc clientip\n"},
		{"usesrc without uid", base + fe("") + "backend be\n source 0.0.0.0 usesrc client\n server s 127.0.0.1:9\n"},
		{"interface with user", "global\n user nobody\n" + base + fe("") + "backend be\n default-server source 127.0.0.1 interface lo\n server s 127.0.0.1:9\n"},
		{"interface with uid 0", "global\n uid 0\n" + base + fe("") + "backend be\n server s 127.0.0.1:9 source 127.0.0.1 interface lo\n"},
		{"usesrc with user root", "global\n user root\n" + base + fe("") + "backend be\n server s 127.0.0.1:9 source 127.0.0.1 usesrc 127.0.0.2\n"},
		{"http set-mark with uid", "global\n uid 65534\n" + base + fe(" http-request set-mark 1\n")},
		{"tcp set-mark", base + fe(" tcp-request connection set-mark 0x10\n")},
		{"response set-mark with uid", "global\n uid 65534\n" + base + fe(" http-response set-mark 2\n")},
		{"set-tos with uid", "global\n uid 65534\n" + base + fe(" http-request set-tos 16\n")},
		{"source in defaults", "global\n uid 65534\n" + base + " source 0.0.0.0 usesrc clientip\n" + fe("")},
		{"plain source with uid", "global\n uid 65534\n" + base + fe("") + "backend be\n server s 127.0.0.1:9 source 127.0.0.1:32710-32711\n"},
		{"after a config warning", "global\n uid 65534\n" + base + fe(" http-request set-mark 1 if TRUE\n http-request set-mark 2 if FALSE\n") + "backend be\n timeout server 0\n server s 127.0.0.1:9\n"},
	}
	uids := []int{-1}
	if os.Getuid() == 0 {
		uids = append(uids, 65534)
	}
	agreed, total := 0, 0
	for _, tc := range cases {
		for _, uid := range uids {
			for _, args := range [][]string{nil, {"-q"}, {"-W"}} {
				name := fmt.Sprintf("%s/uid %d/%s", tc.name, uid, strings.Join(args, " "))
				if uid == -1 {
					name = fmt.Sprintf("%s/uid %d/%s", tc.name, os.Getuid(), strings.Join(args, " "))
				}
				t.Run(name, func(t *testing.T) {
					total++
					got := privOutcome(t, exe, dir, tc.cfg, uid, args...)
					want := privOutcome(t, hap, dir, tc.cfg, uid, args...)
					if got != want {
						t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
						return
					}
					agreed++
				})
			}
		}
	}
	t.Logf("start-up privilege scenarios agreeing with HAProxy: %d/%d", agreed, total)
}
