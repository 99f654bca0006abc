package runtime

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/unixsock"
)

// Unix stream sockets as binds: a path (unix@ or absolute), an abstract
// name (abns@), or a socket pair over which connections' descriptors
// arrive (sockpair@), as src/sock_unix.c and src/proto_sockpair.c do.

// unixListen is a bind on a unix socket.
type unixListen struct {
	// path is the socket file's path (unix-bind's prefix included), or
	// the abstract name.
	path     string
	abstract bool
	// pair is the sockpair@ descriptor, -1 for other binds.
	pair  int
	perms parser.UnixPerms
}

// unixAddr is the canonical bind address of a unix socket address:
// "unix@" with the prefixed path, or "abns@NAME"; false for others.
func unixAddr(a, prefix string) (string, bool) {
	path, abstract, ok := parser.UnixAddress(a)
	if !ok {
		return "", false
	}
	if abstract {
		return "abns@" + path, true
	}
	return "unix@" + prefix + path, true
}

// serverUnixAddr is the address to dial for a server on a unix socket
// ("unix@PATH", "abns@NAME", "sockpair@FD"); false for a TCP server.
func serverUnixAddr(a string, m map[string]string) (string, bool) {
	a = mapAddr(strings.TrimSpace(a), m)
	if strings.HasPrefix(a, "sockpair@") {
		return a, true
	}
	return unixAddr(a, "")
}

// unixListenOf is the unix socket of a compiled bind address, nil for a
// TCP or fd@ one.
func unixListenOf(addr string, perms parser.UnixPerms) *unixListen {
	if n, ok := strings.CutPrefix(addr, "sockpair@"); ok {
		fd, _ := strconv.Atoi(n)
		return &unixListen{pair: fd, perms: perms}
	}
	if p, ok := strings.CutPrefix(addr, "unix@"); ok {
		return &unixListen{path: p, pair: -1, perms: perms}
	}
	if p, ok := strings.CutPrefix(addr, "abns@"); ok {
		return &unixListen{path: p, abstract: true, pair: -1, perms: perms}
	}
	return nil
}

// bindFailure is a bind that failed with HAProxy's words for it.
type bindFailure = unixsock.Failure

// listenUnixBind opens a unix bind: the socket a parent passed down for
// its address, or a new one.
func listenUnixBind(b *Listen) (net.Listener, error) {
	if fd, ok := takeInherited(b.Addr); ok {
		return adoptListener(strconv.Itoa(fd))
	}
	u := b.Unix
	if u.pair >= 0 {
		return newPairListener(u.pair)
	}
	return unixsock.Listen(u.path, u.abstract, u.perms)
}

// pairListener accepts the connections whose descriptors arrive over a
// socket pair, two bytes and one descriptor a message (recv_fd_uxst).
type pairListener struct {
	c *net.UnixConn
}

func newPairListener(fd int) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), "sockpair@"+strconv.Itoa(fd))
	if f == nil {
		return nil, &bindFailure{Msg: fmt.Sprintf("cannot use file descriptor '%d' : Bad file descriptor.", fd)}
	}
	// FileConn works on a duplicate; the inherited one goes.
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, &bindFailure{Msg: "cannot use socket pair (" + unixsock.ErrText(err) + ") [sockpair@" + strconv.Itoa(fd) + "]"}
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, &bindFailure{Msg: "not a unix socket [sockpair@" + strconv.Itoa(fd) + "]"}
	}
	return &pairListener{c: uc}, nil
}

func (p *pairListener) Accept() (net.Conn, error) {
	var buf [2]byte
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := p.c.ReadMsgUnix(buf[:], oob)
		if err != nil {
			return nil, err
		}
		if n == 0 && oobn == 0 {
			// The other end is gone: nothing more will arrive.
			return nil, net.ErrClosed
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil || len(fds) == 0 {
				continue
			}
			for _, extra := range fds[1:] {
				unix.Close(extra)
			}
			f := os.NewFile(uintptr(fds[0]), "sockpair-conn")
			c, err := net.FileConn(f)
			f.Close()
			if err != nil {
				continue
			}
			return c, nil
		}
	}
}

func (p *pairListener) Close() error                          { return p.c.Close() }
func (p *pairListener) Addr() net.Addr                        { return p.c.LocalAddr() }
func (p *pairListener) File() (*os.File, error)               { return p.c.File() }
func (p *pairListener) SyscallConn() (syscall.RawConn, error) { return p.c.SyscallConn() }

// sockListener is what the engine needs of a listening socket.
type sockListener interface {
	net.Listener
	File() (*os.File, error)
	SyscallConn() (syscall.RawConn, error)
}

// listenerFromFile makes a listener of a duplicate of orig's socket: a
// socket pair for a sockpair@ bind, a listening socket otherwise.
func listenerFromFile(f *os.File, u *unixListen, orig net.Listener) (net.Listener, error) {
	if u != nil && u.pair >= 0 {
		c, err := net.FileConn(f)
		if err != nil {
			return nil, err
		}
		uc, ok := c.(*net.UnixConn)
		if !ok {
			c.Close()
			return nil, errors.New("not a unix socket")
		}
		return &pairListener{c: uc}, nil
	}
	ln, err := net.FileListener(f)
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
		if named, ok := orig.(*unixsock.Listener); ok {
			return &unixsock.Listener{UnixListener: ul, Path: named.Path}, nil
		}
	}
	return ln, err
}

// logAddrs fills a log record's client and frontend addresses: a
// client of a unix socket, without a PROXY header's addresses, prints
// "unix" and the listener's id as its port, as HAProxy's log does.
func (s *session) logAddrs(r *logging.Record) {
	r.Client, r.Frontend = s.txn.Src, s.txn.Dst
	u := s.l != nil && s.l.unix
	r.ClientUnix = u && !s.txn.Src.IsValid()
	r.FrontendUnix = u && !s.txn.Dst.IsValid()
	if s.l != nil && s.l.bind != nil {
		r.ListenerID = s.l.bind.ID
	}
}

// isUnixServer tells a server reached over a unix socket.
func isUnixServer(srv *backend.Server) bool {
	a := srv.Addr
	return strings.HasPrefix(a, "unix@") || strings.HasPrefix(a, "abns@") || strings.HasPrefix(a, "sockpair@")
}

// isUnixAddr reports a net.Addr of a unix socket.
func isUnixAddr(a net.Addr) bool {
	_, ok := a.(*net.UnixAddr)
	return ok
}

// SameUnixSocket tells whether f is the listening unix socket of bind b,
// as sock_unix_addrcmp compares them: a named socket may still carry the
// "PATH.PID.tmp" name it was bound on before its rename.
func SameUnixSocket(b *Listen, f *os.File) bool {
	u := b.Unix
	if u == nil || u.pair >= 0 {
		return false
	}
	fd := int(f.Fd())
	if n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || n == 0 {
		return false
	}
	sa, err := unix.Getsockname(fd)
	su, ok := sa.(*unix.SockaddrUnix)
	if err != nil || !ok {
		return false
	}
	if u.abstract {
		// The name reads up to its first NUL, after a leading '@'.
		return su.Name == "@"+u.path
	}
	rest, ok := strings.CutPrefix(su.Name, u.path)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	mid, ok := strings.CutSuffix(strings.TrimPrefix(rest, "."), ".tmp")
	return ok && strings.HasPrefix(rest, ".") && mid != "" && strings.Trim(mid, "0123456789") == ""
}

// setSvSock records the socket under a session's server connection c
// (nil: none), which a kill or closeServer closes.
func (s *session) setSvSock(c netConn) {
	s.svConn.Store(tcpOf(c))
	s.svSock.Store(sockOf(c))
	var u *net.UnixConn
	var br *tlsServerConn
	switch t := c.(type) {
	case *net.UnixConn:
		u = t
	case *tlsServerConn:
		u, _ = t.tcp.(*net.UnixConn)
		br = t
	}
	s.svUnix.Store(u)
	s.svBridge.Store(br)
}
