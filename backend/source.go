package backend

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
)

// SourceBind binds the sockets of connections to a server before they
// connect, as HAProxy's tcp_connect_server does with a "source" setting
// (configuration.txt 4.2 "source", 5.2 server "source"): the interface,
// then the source address with a port taken from its range, or, for a
// transparent connection, the foreign address usesrc gives.
type SourceBind struct {
	parser.SourceBind
	// next is where the search for a free port of the range starts,
	// HAProxy's ring of free ports handing them out in turn.
	next atomic.Uint32
	// Control binds a socket without usesrc (health checks and servers
	// without a transparent address), for net.Dialer.
	Control func(network, address string, rc syscall.RawConn) error
}

// NewSourceBind compiles a "source" setting; nil for none.
func NewSourceBind(s *parser.SourceBind) *SourceBind {
	if s == nil {
		return nil
	}
	b := &SourceBind{SourceBind: *s}
	b.Control = func(network, _ string, rc syscall.RawConn) error {
		return b.control(network, rc, netip.AddrPort{})
	}
	return b
}

// Transparent reports whether connections are made from a foreign
// address (usesrc).
func (b *SourceBind) Transparent() bool { return b.Usesrc != parser.UsesrcNone }

// ControlFrom is Control for a connection made from the foreign address
// src (usesrc).
func (b *SourceBind) ControlFrom(src netip.AddrPort) func(network, address string, rc syscall.RawConn) error {
	return func(network, _ string, rc syscall.RawConn) error { return b.control(network, rc, src) }
}

func (b *SourceBind) control(network string, rc syscall.RawConn, src netip.AddrPort) error {
	if !strings.HasPrefix(network, "tcp") {
		// "source" binds TCP connections only.
		return nil
	}
	var err error
	if cerr := rc.Control(func(fd uintptr) { err = b.Bind(int(fd), network == "tcp6", src) }); cerr != nil {
		return cerr
	}
	return err
}

// ErrSourceBind is a failure to bind a connection's source address,
// ErrTproxyBind one to bind the foreign address of a transparent one.
var (
	ErrSourceBind = errors.New("cannot bind to source address before connect()")
	ErrTproxyBind = errors.New("cannot bind to tproxy source address before connect()")
)

// Bind binds fd, a socket of the destination's family (v6 for IPv6), as
// tcp_connect_server: SO_BINDTODEVICE on the interface, then the source
// address, or the foreign address src when valid (usesrc: its port too
// for client and <addr>, any port for clientip and hdr_ip).
func (b *SourceBind) Bind(fd int, v6 bool, src netip.AddrPort) error {
	if b.Iface != "" {
		// As HAProxy, a failure (no CAP_NET_RAW) is not fatal.
		unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, b.Iface)
	}
	port := b.Usesrc == parser.UsesrcClient || b.Usesrc == parser.UsesrcAddr
	if !src.IsValid() || b.Usesrc == parser.UsesrcNone {
		src = netip.AddrPort{}
	} else if !port {
		src = netip.AddrPortFrom(src.Addr(), 0)
	}
	if b.PortLow == b.PortHigh {
		if !src.IsValid() {
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		}
		return b.bindOnce(fd, v6, b.PortLow, src)
	}
	size := uint32(b.PortHigh - b.PortLow + 1)
	var err error
	for range min(size, 65536) {
		p := b.PortLow + int((b.next.Add(1)-1)%size)
		if p == 0 {
			// HAProxy's allocator never hands out port 0.
			continue
		}
		if err = b.bindOnce(fd, v6, p, src); err == nil || errors.Is(err, ErrTproxyBind) {
			return err
		}
	}
	return err
}

// bindOnce is tcp_bind_socket.
func (b *SourceBind) bindOnce(fd int, v6 bool, port int, src netip.AddrPort) error {
	foreign := false
	if src.IsValid() {
		if !v6 {
			foreign = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1) == nil ||
				unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_FREEBIND, 1) == nil
		} else {
			foreign = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT, 1) == nil ||
				unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_FREEBIND, 1) == nil
		}
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if foreign {
		if err := bindAddr(fd, v6, src); err != nil {
			return errors.Join(ErrTproxyBind, err)
		}
		return nil
	}
	if b.Addr.IsValid() {
		if err := bindAddr(fd, v6, netip.AddrPortFrom(b.Addr, uint16(port))); err != nil {
			return errors.Join(ErrSourceBind, err)
		}
	}
	if src.IsValid() {
		return ErrTproxyBind
	}
	return nil
}

// bindAddr binds fd to a, a v4 address going as its v4-mapped form on
// an IPv6 socket.
func bindAddr(fd int, v6 bool, a netip.AddrPort) error {
	var sa unix.Sockaddr
	switch ip := a.Addr(); {
	case !v6 && ip.Is4():
		sa = &unix.SockaddrInet4{Port: int(a.Port()), Addr: ip.As4()}
	case v6:
		sa = &unix.SockaddrInet6{Port: int(a.Port()), Addr: ip.As16()}
	default:
		return os.NewSyscallError("bind", unix.EAFNOSUPPORT)
	}
	return os.NewSyscallError("bind", unix.Bind(fd, sa))
}
