package main

import (
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/gohap/gohap/parser"
)

// The master runs the configuration's "program" sections beside its
// workers, as HAProxy's mworker-prog.c: each command is started when the
// master starts and again at each reload (unless "no option
// start-on-reload" keeps the one running), gets the master's signals,
// and its end is reported and judged as a worker's.

// startPrograms starts the programs of cfg; keep holds the programs that
// still run and that cfg leaves running, by name.
func (mr *master) startPrograms(cfg *parser.Config, keep map[string]bool) {
	for _, p := range cfg.Programs {
		if keep[p.Name] {
			continue
		}
		mr.startProgram(p)
	}
}

func (mr *master) startProgram(p *parser.Program) {
	cmd := exec.Command(p.Command[0], p.Command[1:]...)
	if p.UID != -1 || p.GID != -1 {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: p.GID == -1}
		if p.UID != -1 {
			cred.Uid = uint32(p.UID)
		}
		if p.GID != -1 {
			cred.Gid = uint32(p.GID)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	cmd.Dir = mr.o.startDir
	cmd.Env = workerEnviron(nil)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	w := &worker{prog: p.Name, cmd: cmd, started: time.Now()}
	if err := cmd.Start(); err != nil {
		// HAProxy's forked child reports the exec failure, then exits 1.
		mr.m.alert("Cannot execute %s: %v", p.Command[0], execErr(err))
		go func() { mr.exits <- exitEvent{w: w, status: 1} }()
		return
	}
	w.pid = cmd.Process.Pid
	mr.mu.Lock()
	mr.progs = append(mr.progs, w)
	mr.mu.Unlock()
	mr.m.notice("New program '%s' (%d) forked", p.Name, w.pid)
	go func() {
		err := cmd.Wait()
		mr.exits <- exitEvent{w: w, status: exitStatus(cmd.ProcessState, err)}
	}()
}

// execErr is strerror's text of an exec failure.
func execErr(err error) string {
	var errno syscall.Errno
	if e, ok := err.(*exec.Error); ok {
		if e.Err == exec.ErrNotFound {
			errno = syscall.ENOENT
		}
	}
	if pe, ok := err.(*os.PathError); ok {
		if en, ok := pe.Err.(syscall.Errno); ok {
			errno = en
		}
	}
	if errno != 0 {
		s := errno.Error()
		return string(s[0]-'a'+'A') + s[1:]
	}
	return err.Error()
}

// reloadPrograms runs after a reload that succeeded with cfg: the
// programs to start again leave (SIGUSR1, as HAProxy's -sf list gets),
// those that "no option start-on-reload" keeps stay current, and cfg's
// programs that are not kept start.
func (mr *master) reloadPrograms(cfg *parser.Config) {
	keepOpt := map[string]bool{}
	for _, p := range cfg.Programs {
		if !p.StartOnReload {
			keepOpt[p.Name] = true
		}
	}
	kept := map[string]bool{}
	mr.mu.Lock()
	for _, w := range mr.progs {
		if w.leaving {
			continue
		}
		if keepOpt[w.prog] && !kept[w.prog] {
			kept[w.prog] = true
			continue
		}
		w.leaving = true
		w.cmd.Process.Signal(syscall.SIGUSR1)
	}
	mr.mu.Unlock()
	mr.startPrograms(cfg, kept)
}

// programExited reports a program's end as mworker_catch_sigchld does.
func (mr *master) programExited(w *worker, status int) {
	m := mr.m
	if w.leaving {
		m.warning("Former program '%s' (%d) exited with code %d (%s)", w.prog, w.pid, status, statusText(status))
		return
	}
	m.alert("Current program '%s' (%d) exited with code %d (%s)", w.prog, w.pid, status, statusText(status))
	mr.judgeExit(status)
}
