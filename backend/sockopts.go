package backend

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// SockOpts are the socket options of a server's connections: "tcp-ut"
// (TCP_USER_TIMEOUT, in milliseconds), tune.rcvbuf.server and
// tune.sndbuf.server.
type SockOpts struct {
	UserTimeout, RcvBuf, SndBuf int
}

// Set sets the options on fd. A failure changes nothing of the
// connection, as in HAProxy, which ignores it.
func (o SockOpts) Set(fd int) {
	if o.UserTimeout != 0 {
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, o.UserTimeout)
	}
	if o.SndBuf != 0 {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SndBuf)
	}
	if o.RcvBuf != 0 {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, o.RcvBuf)
	}
}

// Control is a dialer's Control that runs next (the source address),
// then sets the options.
func (o SockOpts) Control(next func(network, address string, rc syscall.RawConn) error) func(string, string, syscall.RawConn) error {
	if o == (SockOpts{}) {
		return next
	}
	return func(network, address string, rc syscall.RawConn) error {
		if next != nil {
			if err := next(network, address, rc); err != nil {
				return err
			}
		}
		return rc.Control(func(fd uintptr) { o.Set(int(fd)) })
	}
}
