package runtime

import (
	"net"
	"strconv"

	"github.com/gohap/gohap/backend"
)

// RDP load balancing: Microsoft's remote desktop client starts with an
// X.224 connection request carrying "Cookie: mstshash=USER\r\n" (or
// "msts=ADDR.PORT.0000" from a session broker) after an 11-byte header.
// HAProxy's "balance rdp-cookie", "persist rdp-cookie" and the
// RDP_COOKIE ACL read it.

type rdpResult uint8

const (
	rdpNotCookie rdpResult = iota // definitely no such cookie
	rdpTooShort                   // more data may tell
	rdpFound
)

// rdpCookie is fetch_rdp_cookie_name: the value of cookie name (any name
// when name is "") in the RDP connection request at the start of b.
func rdpCookie(b []byte, name string) ([]byte, rdpResult) {
	if len(b) <= 11 {
		return nil, rdpTooShort
	}
	b = b[11:]
	if len(b) <= 7 {
		return nil, rdpTooShort
	}
	if !equalFoldASCII(b[:7], "Cookie:") {
		return nil, rdpNotCookie
	}
	b = b[7:]
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if name != "" {
		if len(b) <= len(name) {
			return nil, rdpTooShort
		}
		if b[len(name)] != '=' || !equalFoldASCII(b[:len(name)], name) {
			return nil, rdpNotCookie
		}
		b = b[len(name)+1:]
	}
	i := 0
	for i < len(b) && b[i] != '\r' {
		i++
	}
	if len(b)-i < 2 {
		return nil, rdpTooShort
	}
	if b[i+1] != '\n' {
		return nil, rdpNotCookie
	}
	return b[:i], rdpFound
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// rdpPersistTarget is "persist rdp-cookie": the server whose IPv4
// address and port the cookie encodes (the address as the decimal of its
// in-memory 32-bit value, the port byte-swapped), HAProxy's encoding.
func rdpPersistTarget(b []byte, name string, servers []*backend.Server) *backend.Server {
	v, res := rdpCookie(b, name)
	if res != rdpFound {
		return nil
	}
	addr, rest, ok := rdpNumber(v)
	if !ok {
		return nil
	}
	p, _, ok := rdpNumber(rest)
	if !ok {
		return nil
	}
	ip := net.IPv4(byte(addr), byte(addr>>8), byte(addr>>16), byte(addr>>24)).String()
	port := strconv.Itoa(int(uint16(p)>>8 | uint16(p)<<8))
	want := net.JoinHostPort(ip, port)
	for _, s := range servers {
		if s.Address() == want {
			return s
		}
	}
	return nil
}

// rdpNumber reads decimal digits up to a '.', strtoul-like, and what
// follows the dot.
func rdpNumber(v []byte) (uint64, []byte, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 || i == len(v) || v[i] != '.' {
		return 0, nil, false
	}
	n, err := strconv.ParseUint(string(v[:i]), 10, 64)
	return n, v[i+1:], err == nil
}
