package backend

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

// Socks4Error is a SOCKS4 handshake that failed, worded as HAProxy's
// conn_err_code_str words it.
type Socks4Error string

func (e Socks4Error) Error() string { return string(e) }

// The SOCKS4 handshake failures (CO_ER_SOCKS4_*).
const (
	ErrSocks4Send  Socks4Error = "SOCKS4 Proxy write error during handshake"
	ErrSocks4Recv  Socks4Error = "SOCKS4 Proxy read error during handshake"
	ErrSocks4Deny  Socks4Error = "SOCKS4 Proxy deny the request"
	ErrSocks4Abort Socks4Error = "SOCKS4 Proxy handshake aborted by server"
)

// socks4Granted is the reply code of a granted request (90).
const socks4Granted = 0x5a

// AppendSocks4Request appends the CONNECT request HAProxy sends a SOCKS4
// proxy for a server at dst (conn_send_socks4_proxy_request): version 4,
// command 1, the port, the IPv4 address (of an IPv6 one its first
// non-zero 32-bit word, as is_inet_addr reads it; zeros for a unix
// socket) and the user id "HAProxy" with its NUL.
func AppendSocks4Request(b []byte, dst string) []byte {
	var port uint16
	var ip [4]byte
	if ap, err := netip.ParseAddrPort(dst); err == nil {
		port = ap.Port()
		a := ap.Addr().Unmap()
		if a.Is4() {
			ip = a.As4()
		} else {
			a16 := a.As16()
			for i := 0; i < 16; i += 4 {
				if w := [4]byte(a16[i : i+4]); w != [4]byte{} {
					ip = w
					break
				}
			}
		}
	}
	b = append(b, 4, 1, byte(port>>8), byte(port))
	b = append(b, ip[:]...)
	return append(b, "HAProxy\x00"...)
}

// Socks4Handshake asks the SOCKS4 proxy at the other end of c to connect
// to dst, before deadline (none when zero): it sends the request, reads
// the 8-byte reply and fails unless the reply grants the request
// (conn_recv_socks4_proxy_response). The bytes after the reply stay
// unread. A deadline passed is reported as c reports it.
func Socks4Handshake(c net.Conn, dst string, deadline time.Time) error {
	if !deadline.IsZero() {
		c.SetDeadline(deadline)
		defer c.SetDeadline(time.Time{})
	}
	var buf [16]byte
	if _, err := c.Write(AppendSocks4Request(buf[:0], dst)); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		return ErrSocks4Send
	}
	reply := buf[:8]
	if _, err := io.ReadFull(c, reply); err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return err
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return ErrSocks4Recv
		}
		return ErrSocks4Abort
	}
	if reply[1] != socks4Granted {
		return ErrSocks4Deny
	}
	return nil
}
