// Package unixsock binds unix stream sockets as HAProxy's
// sock_unix_bind_receiver does, for the frontends' binds and the stats
// sockets alike.
package unixsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
)

// Failure is a bind that failed, in HAProxy's words: the reason, then
// the path in brackets ("cannot bind UNIX socket (...) [PATH]"); Err is
// the system's error, when one.
type Failure struct {
	Msg string
	Err error
}

func (f *Failure) Error() string { return f.Msg }
func (f *Failure) Unwrap() error { return f.Err }

// Listen binds a unix stream socket. A named one is bound on
// "PATH.PID.tmp", given its owner and mode, then renamed over PATH, the
// previous file kept as "PATH.PID.bak" until the switch is done, so that
// a stale socket is replaced and a live one never missing; the file
// outlives the process, as HAProxy leaves it, and the listener reports
// PATH as its address (a *Listener). An abstract one is bound under its
// padded name (backend.AbstractName).
func Listen(path string, abstract bool, p parser.UnixPerms) (net.Listener, error) {
	if abstract {
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: backend.AbstractName(path), Net: "unix"})
		if err != nil {
			return nil, bindFailure(err, path)
		}
		return ln, nil
	}
	pid := os.Getpid()
	tmp := fmt.Sprintf("%s.%d.tmp", path, pid)
	back := fmt.Sprintf("%s.%d.bak", path, pid)
	for _, f := range []string{tmp, back} {
		if err := unix.Unlink(f); err != nil && err != unix.ENOENT {
			return nil, failure("error when trying to unlink previous UNIX socket (%s)", err, path)
		}
	}
	if err := unix.Link(path, back); err != nil && err != unix.ENOENT {
		return nil, failure("error when trying to preserve previous UNIX socket (%s)", err, path)
	}
	defer unix.Unlink(back)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, bindFailure(err, path)
	}
	ln.SetUnlinkOnClose(false)
	if err := own(tmp, p); err != nil {
		ln.Close()
		unix.Unlink(tmp)
		return nil, failure("cannot change UNIX socket ownership (%s)", err, path)
	}
	if err := unix.Rename(tmp, path); err != nil {
		ln.Close()
		if unix.Rename(back, path) == unix.ENOENT {
			unix.Unlink(path)
		}
		unix.Unlink(tmp)
		return nil, failure("cannot switch final and temporary UNIX sockets (%s)", err, path)
	}
	return &Listener{UnixListener: ln, Path: filepath.Clean(path)}, nil
}

// Listener is a named unix socket that reports its final path as its
// address: the socket's own name is the temporary one it was bound on.
type Listener struct {
	*net.UnixListener
	Path string
}

func (l *Listener) Addr() net.Addr { return &net.UnixAddr{Name: l.Path, Net: "unix"} }

// own applies a socket file's owner and mode.
func own(path string, p parser.UnixPerms) error {
	if p.HasUID || p.HasGID {
		uid, gid := -1, -1
		if p.HasUID {
			uid = p.UID
		}
		if p.HasGID {
			gid = p.GID
		}
		if err := unix.Chown(path, uid, gid); err != nil {
			return err
		}
	}
	if p.Mode != 0 {
		return unix.Chmod(path, p.Mode)
	}
	return nil
}

// ErrText is the system's description of err, as strerror words it.
func ErrText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

// bindFailure is bind()'s failure: one that an older process may end by
// letting go of the address is "already in use".
func bindFailure(err error, path string) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return &Failure{Msg: "cannot bind UNIX socket (already in use) [" + path + "]", Err: syscall.EADDRINUSE}
	}
	return failure("cannot bind UNIX socket (%s)", err, path)
}

func failure(format string, err error, path string) error {
	return &Failure{Msg: fmt.Sprintf(format, ErrText(err)) + " [" + path + "]", Err: err}
}
