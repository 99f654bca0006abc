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
func dialAddr(d *net.Dialer, srv *backend.Server, addr string) (net.Conn, error) {
	if srv.Socks4 != "" {
		return dialSocks4(d, srv, addr)
	}
	return dial(d, addr, srv.NetNS)
}

// netDial dials addr with Go's own sockets (which the HTTP/2 and FastCGI
// connections use), in srv's network namespace when it has one.
func netDial(d *net.Dialer, srv *backend.Server, addr string) (net.Conn, error) {
	return backend.DialIn(context.Background(), srv.NetNS, d, addr)
}

// dialSocks4 connects to srv's SOCKS4 proxy and has it connect to addr,
// all within d's timeout, as the connect timeout covers HAProxy's
// handshake. The handshake comes before any PROXY header or TLS
// (xprt_handshake_io_cb). A refused request is a connection failure,
// retried as one.
func dialSocks4(d *net.Dialer, srv *backend.Server, addr string) (net.Conn, error) {
	start := time.Now()
	c, err := dial(d, srv.Socks4, srv.NetNS)
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
