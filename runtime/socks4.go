package runtime

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
)

// socks4DialAddr is the address to dial for a server's SOCKS4 proxy, ""
// for none.
func socks4DialAddr(a parser.Socks4Addr) string {
	switch {
	case a.Path != "" && a.Abstract:
		return "abns@" + a.Path
	case a.Path != "":
		return "unix@" + a.Path
	case a.AddrPort.IsValid():
		return a.AddrPort.String()
	}
	return ""
}

// dialAddr connects to a server at addr, through its SOCKS4 proxy when
// it has one.
func dialAddr(d *net.Dialer, srv *backend.Server, addr string, ns *backend.NetNS) (net.Conn, error) {
	if srv.Socks4 != "" {
		return dialSocks4(d, srv, addr, ns)
	}
	ap, err := srv.ParseDialAddr(addr)
	return dialParsed(d, addr, ap, err, ns)
}

// netDial dials addr with Go's own sockets (which the HTTP/2 and FastCGI
// connections use), in the network namespace ns when not nil.
func netDial(d *net.Dialer, addr string, ns *backend.NetNS) (net.Conn, error) {
	return backend.DialIn(context.Background(), ns, d, addr)
}

// dialSocks4 connects to srv's SOCKS4 proxy and has it connect to addr,
// all within d's timeout, as the connect timeout covers HAProxy's
// handshake. The handshake comes before any PROXY header or TLS
// (xprt_handshake_io_cb). A refused request is a connection failure,
// retried as one.
func dialSocks4(d *net.Dialer, srv *backend.Server, addr string, ns *backend.NetNS) (net.Conn, error) {
	start := time.Now()
	c, err := dial(d, srv.Socks4, ns)
	if err != nil {
		return nil, err
	}
	var deadline time.Time
	if d.Timeout > 0 {
		deadline = start.Add(d.Timeout)
	}
	if err := backend.Socks4Handshake(c, addr, deadline); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// srvDst is the server address of a connection to srv that the log
// shows (%si, %sp): where the connection goes, as HAProxy keeps it
// (conn->dst). That is the address asked of a SOCKS4 proxy rather than
// the proxy's, and, when the connection failed (c nil), the address
// tried.
func (s *session) srvDst(srv *backend.Server, c net.Conn) netip.AddrPort {
	if c == nil || srv.Socks4 != "" {
		ap, _ := netip.ParseAddrPort(srv.DialAddr(s.txn.Dst))
		return ap
	}
	if sc, ok := c.(*sockConn); ok {
		// Without the net.Addr RemoteAddr allocates.
		return sc.raddr
	}
	return addrPort(c.RemoteAddr())
}

// srvNS is the network namespace of the session's connections to srv:
// its own, or with "namespace *" the client connection's (its bind's, or
// the one its PROXY header named), none for a check.
func (s *session) srvNS(srv *backend.Server) *backend.NetNS {
	if srv.NetNSFromPP {
		return s.pps.ns
	}
	return srv.NetNS
}
