package backend

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"sync"
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
	// ports is the free ports of a port range, nil without one.
	ports *PortRange
	// Control binds a socket without usesrc (health checks and servers
	// without a transparent address), for net.Dialer.
	Control func(network, address string, rc syscall.RawConn) error
	// Failed reports a socket that could not be bound (tproxy for its
	// foreign address), as tcp_connect_server does with its alert and
	// emergency log line; the engine sets it before serving.
	Failed func(tproxy bool)
}

// NewSourceBind compiles a "source" setting; nil for none. copies is how
// many times HAProxy copied a server's port range before using it (from
// the default-server, from the first server of a server-template).
func NewSourceBind(s *parser.SourceBind, copies int) *SourceBind {
	if s == nil {
		return nil
	}
	b := &SourceBind{SourceBind: *s}
	if s.PortLow != s.PortHigh {
		b.ports = newPortRange(s.PortLow, s.PortHigh, copies)
	}
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
	var port int
	if cerr := rc.Control(func(fd uintptr) { port, err = b.Bind(int(fd), network == "tcp6", src) }); cerr != nil {
		return cerr
	}
	if err != nil {
		if b.Failed != nil {
			b.Failed(errors.Is(err, ErrTproxyBind))
		}
		return err
	}
	if port != 0 {
		if h, ok := rc.(PortHolder); ok {
			h.HoldPort(b.ports, port)
		} else {
			// A socket whose closing is not seen here (a health
			// check's, one dialled by name).
			rc.Control(func(fd uintptr) { b.ports.holdLoose(int(fd), port) })
		}
	}
	return nil
}

// PortHolder is a socket about to connect that keeps the port of a
// range it was bound to until it is closed, then gives it back with
// PortRange.Release (HAProxy's fdinfo port_range and local_port).
type PortHolder interface {
	HoldPort(r *PortRange, port int)
}

// PortRange is the ring of the free ports of a source port range
// (port_range.h): ports go out from its head and come back at its tail
// when their connection closes, so that no two connections hold the same
// port, and the port longest free goes out first.
type PortRange struct {
	mu       sync.Mutex
	ports    []int
	get, put int
	// loose are the ports held by sockets that do not say when they
	// close: each goes back once its descriptor no longer holds the
	// same socket.
	loose []looseHold
}

// looseHold is a port held by socket fd, known by its cookie.
type looseHold struct {
	fd, port int
	cookie   uint64
}

// holdLoose keeps port for the socket fd until it is closed.
func (r *PortRange) holdLoose(fd, port int) {
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		r.Release(port)
		return
	}
	r.mu.Lock()
	r.loose = append(r.loose, looseHold{fd: fd, port: port, cookie: cookie})
	r.mu.Unlock()
}

// reclaim gives back the ports of closed loose sockets; r.mu is held.
func (r *PortRange) reclaim() {
	kept := r.loose[:0]
	for _, h := range r.loose {
		if c, err := unix.GetsockoptUint64(h.fd, unix.SOL_SOCKET, unix.SO_COOKIE); err == nil && c == h.cookie {
			kept = append(kept, h)
			continue
		}
		r.putLocked(h.port)
	}
	r.loose = kept
}

// putLocked puts port at the ring's tail; r.mu is held.
func (r *PortRange) putLocked(port int) {
	r.ports[r.put] = port
	r.put = (r.put + 1) % len(r.ports)
}

// newPortRange is port_range_alloc_range with its ports filled as
// srv_parse_source does, copied copies times as
// srv_conn_src_sport_range_cpy does: each copy is one slot larger, its
// extra slots handed out too (the port after the range's last, then a
// zero slot, which reads as an empty range once).
func newPortRange(lo, hi, copies int) *PortRange {
	n := hi - lo + 1
	r := &PortRange{ports: make([]int, n+1), put: n}
	for i := range r.ports {
		r.ports[i] = lo + i
	}
	for range copies {
		c := &PortRange{ports: make([]int, len(r.ports)+1), put: len(r.ports)}
		copy(c.ports, r.ports)
		r = c
	}
	return r
}

// alloc is port_range_alloc_port: the next free port, 0 when none is.
func (r *PortRange) alloc() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.loose) > 0 {
		r.reclaim()
	}
	if r.get == r.put {
		return 0
	}
	p := r.ports[r.get]
	r.get = (r.get + 1) % len(r.ports)
	return p
}

// Release is port_range_release_port: port is free again. Port 0 and a
// nil range do nothing.
func (r *PortRange) Release(port int) {
	if port == 0 || r == nil {
		return
	}
	r.mu.Lock()
	r.putLocked(port)
	r.mu.Unlock()
}

// CloseRelease closes the socket holding port with closeFn and gives
// the port back in one step: no port goes out between the two. A peer
// that saw the connection close and connects again then finds the ports
// in the order HAProxy's single task run leaves them.
func (r *PortRange) CloseRelease(port int, closeFn func() error) error {
	if port == 0 || r == nil {
		return closeFn()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	err := closeFn()
	r.putLocked(port)
	return err
}

// ErrSourceBind is a failure to bind a connection's source address,
// ErrTproxyBind one to bind the foreign address of a transparent one.
// ErrPortRange, joined to one of them, an empty port range.
var (
	ErrSourceBind = errors.New("cannot bind to source address before connect()")
	ErrTproxyBind = errors.New("cannot bind to tproxy source address before connect()")
	ErrPortRange  = errors.New("source port range exhausted")
)

// sourceReport is the report of a health check whose socket could not
// be bound (CO_ER_CANT_BIND, with the errno HAProxy then finds on the
// closed socket) or found no free port in its range (CO_ER_PORT_RANGE).
func sourceReport(err error, where string) (string, bool) {
	var what string
	switch {
	case errors.Is(err, ErrPortRange):
		// No system call failed.
		what = "Source port range exhausted"
	case errors.Is(err, ErrSourceBind), errors.Is(err, ErrTproxyBind):
		what = "Can't bind to source address (" + strerror(syscall.ENOTCONN) + ")"
	default:
		return "", false
	}
	return `Layer4 connection problem, info: "` + what + where + `"`, true
}

// Bind binds fd, a socket of the destination's family (v6 for IPv6), as
// tcp_connect_server: SO_BINDTODEVICE on the interface, then the source
// address, or the foreign address src when valid (usesrc: its port too
// for client and <addr>, any port for clientip and hdr_ip). With a port
// range it returns the port the socket holds, to be released once it is
// closed.
func (b *SourceBind) Bind(fd int, v6 bool, src netip.AddrPort) (int, error) {
	if b.Iface != "" {
		// As HAProxy, a failure (no CAP_NET_RAW) is not fatal.
		unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, b.Iface)
	}
	withPort := b.Usesrc == parser.UsesrcClient || b.Usesrc == parser.UsesrcAddr
	if !src.IsValid() || b.Usesrc == parser.UsesrcNone {
		src = netip.AddrPort{}
	} else if !withPort {
		src = netip.AddrPortFrom(src.Addr(), 0)
	}
	if b.ports == nil {
		if !src.IsValid() {
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		}
		return 0, b.bindOnce(fd, v6, b.PortLow, src)
	}
	// tcp_connect_server's attempts: a port the range hands out that
	// cannot be bound goes back to it and the next is tried, ten times
	// at most; an empty range fails at once.
	err := ErrSourceBind
	port := 0
	for attempts := 10; ; attempts-- {
		b.ports.Release(port)
		port = 0
		if attempts == 0 {
			break
		}
		if port = b.ports.alloc(); port == 0 {
			return 0, errors.Join(err, ErrPortRange)
		}
		if err = b.bindOnce(fd, v6, port, src); err == nil {
			return port, nil
		}
	}
	return 0, err
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
