package backend

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ExtCheck is "option external-check" (src/extcheck.c): each check runs
// Command with the proxy's first listening address and port and the
// server's address and port as arguments, in an environment of HAProxy's
// variables only; an exit status of 0 passes.
type ExtCheck struct {
	// Command is "external-check command", found in Path ("external-check
	// path", HAProxy's default is empty) when it has no slash.
	Command, Path string
	ProxyName     string
	ProxyID       int
	// ProxyAddr and ProxyPort are the proxy's first listener, "NOT_USED"
	// without one (a unix socket has its path and "NOT_USED").
	ProxyAddr, ProxyPort string
	// Proto is HAPROXY_SERVER_PROTO: "tcp", or the HTTP server's protocol
	// ("h1" unless "proto" says otherwise). SSL is the server's "ssl".
	Proto string
	SSL   bool
	// Timeout is how long the command may run before it is sent SIGTERM
	// and the check times out: the server's inter, or the proxy's timeout
	// connect when shorter and "timeout check" is set.
	Timeout time.Duration
	// Fork is "insecure-fork-wanted": without it HAProxy forbids new
	// processes (RLIMIT_NPROC 0), which binds every user but root.
	// NoNewPrivs, unless "insecure-setuid-wanted", keeps the command from
	// gaining privileges (setuid or file capabilities).
	Fork, NoNewPrivs bool
	// Quiet, as HAProxy's quiet mode, leaves the command without the
	// standard streams.
	Quiet bool
	// Warn and Alert report what HAProxy prints on its standard error.
	Warn, Alert func(string)

	mu sync.Mutex
	// code is the last exit status, which a timeout reports again.
	code int
}

// run is one external check: the report and result.
func (x *ExtCheck) run(ctx context.Context, s *Server) (string, checkResult) {
	if !x.Fork && os.Geteuid() != 0 {
		// setrlimit(RLIMIT_NPROC, 0) makes fork fail for any other user.
		x.alert("Failed to fork process for external health check (likely caused by missing 'insecure-fork-wanted'): " + strerror(syscall.EAGAIN) + ". Aborting.")
		return "Socket error, info: \"" + strerror(syscall.EAGAIN) + "\"", checkFailed
	}
	addr, port := "", ""
	if network, a := DialTarget(s.Address()); network == "unix" {
		addr, port = a, "NOT_USED"
	} else if ap, err := netip.ParseAddrPort(a); err == nil {
		addr, port = ap.Addr().Unmap().String(), strconv.Itoa(int(ap.Port()))
	} else if h, p, ok := strings.Cut(a, ":"); ok {
		addr, port = h, p
	}
	ssl := "0"
	if x.SSL {
		ssl = "1"
	}
	// Without a listener HAProxy's variables are empty, its arguments
	// NOT_USED.
	envAddr, envPort := x.ProxyAddr, x.ProxyPort
	if envAddr == "NOT_USED" {
		envAddr = ""
	}
	if envPort == "NOT_USED" {
		envPort = ""
	}
	cmd := &exec.Cmd{Path: x.lookPath(), Args: []string{x.Command, x.ProxyAddr, x.ProxyPort, addr, port},
		Env: []string{"PATH=" + x.Path, "HAPROXY_PROXY_NAME=" + x.ProxyName, "HAPROXY_PROXY_ID=" + strconv.Itoa(x.ProxyID),
			"HAPROXY_PROXY_ADDR=" + envAddr, "HAPROXY_PROXY_PORT=" + envPort,
			"HAPROXY_SERVER_NAME=" + s.Name, "HAPROXY_SERVER_ID=" + strconv.Itoa(s.ID),
			"HAPROXY_SERVER_ADDR=" + addr, "HAPROXY_SERVER_PORT=" + port,
			"HAPROXY_SERVER_MAXCONN=" + strconv.Itoa(s.Maxconn), "HAPROXY_SERVER_CURCONN=" + strconv.Itoa(s.Sessions()),
			"HAPROXY_SERVER_SSL=" + ssl, "HAPROXY_SERVER_PROTO=" + x.Proto}}
	if !x.Quiet {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := spawn(cmd, x.NoNewPrivs); err != nil {
		x.alert("Failed to exec process for external health check: " + execError(err) + ". Aborting.")
		// HAProxy's child exits with -1 once exec failed.
		return x.report(CheckProcErr, 255), checkFailed
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t := time.NewTimer(x.Timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		x.warn("kill " + strconv.Itoa(cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		x.mu.Lock()
		code := x.code
		x.mu.Unlock()
		return x.report(CheckProcTout, code), checkFailed
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		return "", checkFailed
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	code := -1
	if ws.Exited() {
		code = ws.ExitStatus()
	}
	x.mu.Lock()
	x.code = code
	x.mu.Unlock()
	if code != 0 {
		return x.report(CheckProcErr, code), checkFailed
	}
	return x.report(CheckProcOK, code), checkPassed
}

func (x *ExtCheck) report(st CheckStatus, code int) string {
	return checkStatuses[st].desc + ", code: " + strconv.Itoa(code)
}

func (x *ExtCheck) warn(m string) {
	if x.Warn != nil {
		x.Warn(m)
	}
}

func (x *ExtCheck) alert(m string) {
	if x.Alert != nil {
		x.Alert(m)
	}
}

// lookPath is execvp's search: a command with a slash as it is, else the
// first executable file of that name in Path's directories (an empty
// one being the current directory).
func (x *ExtCheck) lookPath() string {
	if strings.Contains(x.Command, "/") {
		return x.Command
	}
	for _, dir := range strings.Split(x.Path, ":") {
		p := filepath.Join(dir, x.Command)
		if dir == "" {
			p = "./" + x.Command
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return x.Command
}

func execError(err error) string {
	var errno syscall.Errno
	if pe, ok := err.(*os.PathError); ok {
		if e, ok := pe.Err.(syscall.Errno); ok {
			errno = e
		}
	}
	if errno == 0 {
		return err.Error()
	}
	return strerror(errno)
}

// spawn starts cmd; with noNewPrivs, from a thread of its own that set
// PR_SET_NO_NEW_PRIVS, which the command inherits.
func spawn(cmd *exec.Cmd, noNewPrivs bool) error {
	if !noNewPrivs {
		return cmd.Start()
	}
	spawnerOnce.Do(startSpawner)
	res := make(chan error, 1)
	spawner <- spawnReq{cmd, res}
	return <-res
}

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

var (
	spawnerOnce sync.Once
	spawner     chan spawnReq
)

// startSpawner runs the goroutine that starts commands without new
// privileges. Its thread keeps the flag, which cannot be undone: the
// goroutine never unlocks it, so the thread ends with it.
func startSpawner() {
	spawner = make(chan spawnReq)
	go func() {
		runtime.LockOSThread()
		err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
		for r := range spawner {
			if err != nil {
				r.res <- err
				continue
			}
			r.res <- r.cmd.Start()
		}
	}()
}
