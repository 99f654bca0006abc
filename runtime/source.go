package runtime

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// errUsesrc is a transparent connection whose foreign address cannot be
// found (alloc_bind_address): no such header for usesrc hdr_ip.
var errUsesrc = errors.New("no address for usesrc")

// bindSource sets d's Control to bind the connections to srv as its
// "source" (or its backend's) says, with this session's foreign address
// for usesrc; d is the caller's own dialer, reset for each server tried.
// Only a transparent connection costs an allocation.
func (s *session) bindSource(d *net.Dialer, be *Backend, srv *backend.Server) error {
	b := srv.Source
	switch {
	case b == nil:
		d.Control = nil
	case !b.Transparent():
		d.Control = b.Control
	default:
		src, err := s.usesrcAddr(be, b)
		if err != nil {
			return err
		}
		d.Control = b.ControlFrom(src)
	}
	d.Control = srv.SockOpts.Control(d.Control)
	return nil
}

// compileSockOpts records a server's socket options, which its checks'
// sockets get too: "tcp-ut" and the server buffer sizes, set before
// connecting as tcp_connect_server sets them.
//
// "tfo" sets nothing: HAProxy 2.6 sets TCP_FASTOPEN_CONNECT only when
// connect_server finds data in the stream's response channel
// (CONNECT_HAS_DATA), which is empty whenever a server connection is
// opened, so its server sockets never get it either.
func compileSockOpts(g *parser.Global, st *parser.ServerSettings, srv *backend.Server) {
	srv.SockOpts = backend.SockOpts{UserTimeout: int(st.TCPUserTimeout / time.Millisecond), RcvBuf: g.ServerRcvBuf, SndBuf: g.ServerSndBuf}
}

// usesrcAddr is the foreign address of a transparent connection
// (alloc_bind_address): the client's, usesrc's own, or the IPv4 address
// in a request header; invalid when the client has no inet address,
// which then binds the source address only.
func (s *session) usesrcAddr(be *Backend, b *backend.SourceBind) (netip.AddrPort, error) {
	switch b.Usesrc {
	case parser.UsesrcAddr:
		return b.UsesrcAddr, nil
	case parser.UsesrcClient, parser.UsesrcClientIP:
		src := s.txn.Src
		return netip.AddrPortFrom(src.Addr().Unmap(), src.Port()), nil
	case parser.UsesrcHdrIP:
		if b.HdrOcc == 0 || !be.HTTP || s.txn.Req == nil {
			return netip.AddrPort{}, errUsesrc
		}
		v, ok := headerOcc(s.txn.Buf, s.txn.Req, b.Hdr, b.HdrOcc)
		if !ok {
			return netip.AddrPort{}, errUsesrc
		}
		return netip.AddrPortFrom(inetaddrHostLim(v), 0), nil
	}
	return netip.AddrPort{}, nil
}

// headerOcc is occurrence occ (from the first when > 0, from the last
// when < 0) of the comma-separated values of header name, as
// http_get_htx_hdr finds it; an empty name stands for any header.
func headerOcc(buf []byte, m *h1.Msg, name string, occ int) ([]byte, bool) {
	var vals [][]byte
	for _, h := range m.Headers {
		if name != "" && !h1.EqualFold(h.Name.Of(buf), name) {
			continue
		}
		conn := h1.EqualFold(h.Name.Of(buf), "connection")
		for _, v := range bytes.Split(h.Value.Of(buf), []byte(",")) {
			v = bytes.Trim(v, " \t")
			if conn && (h1.EqualFold(v, "close") || h1.EqualFold(v, "keep-alive")) {
				// HAProxy's H1 parser takes these tokens off.
				continue
			}
			vals = append(vals, v)
		}
	}
	if occ < 0 {
		occ += len(vals) + 1
	}
	if occ < 1 || occ > len(vals) {
		return nil, false
	}
	return vals[occ-1], true
}

// inetaddrHostLim reads a dotted IPv4 address as HAProxy's
// inetaddr_host_lim: each byte from the last three digits before a dot,
// missing bytes zero.
func inetaddrHostLim(v []byte) netip.Addr {
	var a [4]byte
	for i := 0; i < 4; i++ {
		n := 0
		for n < len(v) && v[n] >= '0' && v[n] <= '9' {
			n++
		}
		x := 0
		for _, c := range v[max(0, n-3):n] {
			x = x*10 + int(c-'0')
		}
		a[i] = byte(x)
		if n == len(v) || v[n] != '.' {
			break
		}
		v = v[n+1:]
	}
	return netip.AddrFrom4(a)
}

// sourceHdrWarnings are check_config_validity's warnings about usesrc
// hdr_ip outside HTTP mode, where no header can give the address (the
// connections then fail).
func sourceHdrWarnings(p *parser.Proxy, kind string, warn func(parser.Pos, string, ...any)) {
	if p.Mode == "http" || p.Cap&parser.CapDef != 0 {
		return
	}
	if sb := p.Source; sb != nil && sb.Usesrc == parser.UsesrcHdrIP && sb.HdrOcc != 0 {
		warn(parser.Pos{}, "%s '%s' : ignoring use of header %s as source IP in non-HTTP mode.", kind, p.Name, sb.Hdr)
	}
	for _, s := range p.Servers {
		if sb := s.Settings.Source; sb != nil && sb.Usesrc == parser.UsesrcHdrIP && sb.HdrOcc != 0 {
			warn(parser.Pos{}, "%s '%s' : server %s cannot use header %s as source IP in non-HTTP mode.", kind, p.Name, s.Name, sb.Hdr)
		}
	}
}

// srcPort is the port of a source range a connection holds until it is
// closed (HAProxy's fdinfo port_range and local_port).
type srcPort struct {
	r    *backend.PortRange
	port atomic.Int32
}

// release gives the port back, once.
func (p *srcPort) release() {
	if n := p.port.Swap(0); n != 0 {
		p.r.Release(int(n))
	}
}

// closeWith closes the socket with closeFn and releases its port, as one
// step (PortRange.CloseRelease).
func (p *srcPort) closeWith(closeFn func() error) error {
	if n := p.port.Swap(0); n != 0 {
		return p.r.CloseRelease(int(n), closeFn)
	}
	return closeFn()
}

// HoldPort keeps the port the socket was bound to (backend.PortHolder).
func (f *fdRaw) HoldPort(r *backend.PortRange, port int) {
	f.src.r = r
	f.src.port.Store(int32(port))
}

// release gives back the port of a socket that did not connect.
func (f *fdRaw) release() {
	if f != nil {
		f.src.release()
	}
}

// handTo passes the port of a connected socket to its connection.
func (f *fdRaw) handTo(p *srcPort) {
	if f != nil && f.src.port.Load() != 0 {
		p.r = f.src.r
		p.port.Store(f.src.port.Swap(0))
	}
}

// sourceCopies is how many times HAProxy copied a server's source port
// range before using it (srv_settings_cpy): from the default-server when
// the server has no "source" of its own, and from the first server of a
// server-template to the others.
func sourceCopies(p *parser.Proxy, s *parser.Server) int {
	n := 0
	if !slices.Contains(s.Options, "source") {
		n++
	}
	if s.Template {
		if i := slices.Index(p.Servers, s); i > 0 && p.Servers[i-1].Template && p.Servers[i-1].Pos == s.Pos {
			n++
		}
	}
	return n
}

// reportSourceFailures has the backend's servers report a socket that
// their "source" could not bind as tcp_connect_server does: an alert on
// the standard error, an emergency line in the backend's logs.
func (e *Engine) reportSourceFailures(be *Backend) {
	for _, srv := range be.LB.Servers {
		if b := srv.Source; b != nil {
			b.Failed = func(tproxy bool) {
				what := "source address"
				if tproxy {
					what = "tproxy source address"
				}
				msg := "Cannot bind to " + what + " before connect() for backend " + be.Name + "."
				e.log.Error(msg + " Aborting.")
				be.event(logging.LevelEmerg, msg)
			}
		}
	}
}

// connectError reports a connection to a server that failed at once as
// tcp_connect_server does, and tells whether it did (SF_ERR_RESOURCE):
// no source port to bind, or none left to connect from. Such a failure
// is retried at once, being a lack of local ports, not the server's.
func (e *Engine) connectError(be *Backend, err error) bool {
	if errors.Is(err, backend.ErrSourceBind) || errors.Is(err, backend.ErrTproxyBind) {
		// Reported when the socket was bound.
		return true
	}
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "connect" {
		return false
	}
	var msg string
	switch se.Err {
	case unix.EAGAIN, unix.EADDRNOTAVAIL:
		msg = "no free ports"
	case unix.EADDRINUSE:
		msg = "local address already in use"
	default:
		return false
	}
	msg = "Connect() failed for backend " + be.Name + ": " + msg + "."
	e.log.Error(msg)
	be.event(logging.LevelErr, msg)
	return true
}
