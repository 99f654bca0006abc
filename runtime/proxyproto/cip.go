package proxyproto

import (
	"encoding/binary"
	"net/netip"
)

// The NetScaler Client IP insertion errors, HAProxy's conn_err_code_str
// messages (CO_ER_CIP_*).
const (
	ErrCIPEmpty     Error = "Connection closed while waiting for NetScaler Client IP header"
	ErrCIPAbort     Error = "Connection error while waiting for NetScaler Client IP header"
	ErrCIPTimeout   Error = "Timeout while waiting for a NetScaler Client IP header"
	ErrCIPTruncated Error = "Truncated NetScaler Client IP header received"
	ErrCIPBadMagic  Error = "Received an invalid NetScaler Client IP magic number"
	ErrCIPBadProto  Error = "Received an unhandled protocol in the NetScaler Client IP header"
)

// ParseCIP reads the NetScaler Client IP insertion header b starts with
// (the bytes of one read), as conn_recv_netscaler_cip does: the magic
// number, then the legacy form (a 32-bit length and the client's IP
// header) or the standard one (a 32-bit CIP length, a zero type, a
// 16-bit header length, the IP header), whose IPv4 or IPv6 and TCP
// headers give the client's and the original destination's addresses.
// It returns them and the length of the header to take off the stream.
func ParseCIP(b []byte, magic uint32) (src, dst netip.AddrPort, n int, err error) {
	if len(b) < 12 {
		return src, dst, 0, ErrCIPTruncated
	}
	if binary.BigEndian.Uint32(b) != magic {
		return src, dst, 0, ErrCIPBadMagic
	}
	var off, hdrLen int
	switch {
	case b[8]&0xD0 == 0x40: // legacy: an IP version nibble right after
		off, hdrLen = 8, int(binary.BigEndian.Uint32(b[4:]))
	case b[8] == 0:
		off, hdrLen = 12, int(binary.BigEndian.Uint16(b[10:]))
	default:
		return src, dst, 0, ErrCIPBadProto
	}
	if len(b) < 20 {
		return src, dst, 0, ErrCIPTruncated
	}
	ip := b[off:]
	switch ip[0] >> 4 {
	case 4:
		// The lengths compared are the read's, not the header's own.
		if len(b) < 40 || len(b) < hdrLen {
			return src, dst, 0, ErrCIPTruncated
		}
		if ip[9] != 6 {
			return src, dst, 0, ErrCIPBadProto
		}
		tcp := int(ip[0]&0x0f) * 4
		if len(ip) < tcp+4 {
			return src, dst, 0, ErrCIPTruncated
		}
		src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(ip[tcp:]))
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(ip[tcp+2:]))
	case 6:
		if len(b) < 60 || len(b) < hdrLen {
			return src, dst, 0, ErrCIPTruncated
		}
		if ip[6] != 6 {
			return src, dst, 0, ErrCIPBadProto
		}
		src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[8:24])), binary.BigEndian.Uint16(ip[40:]))
		dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip[24:40])), binary.BigEndian.Uint16(ip[42:]))
	default:
		return src, dst, 0, ErrCIPBadProto
	}
	// HAProxy then takes exactly that many bytes off the socket, and
	// fails when fewer come.
	if n = off + hdrLen; n > len(b) {
		return netip.AddrPort{}, netip.AddrPort{}, 0, ErrCIPAbort
	}
	return src, dst, n, nil
}
