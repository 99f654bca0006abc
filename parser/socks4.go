package parser

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Socks4Addr is the address of a server's SOCKS4 proxy ("socks4
// <addr>:<port>"), read as srv_parse_socks4 reads it: an IP address and
// port, host names resolved when the line is read, or a unix socket.
type Socks4Addr struct {
	// AddrPort is the proxy's IP address and port.
	AddrPort netip.AddrPort
	// Path is the proxy's unix socket path, or the name of an abstract
	// one (Abstract), when it listens on a unix socket.
	Path     string
	Abstract bool
}

// IsSet tells whether the server has a SOCKS4 proxy.
func (a Socks4Addr) IsSet() bool { return a.AddrPort.IsValid() || a.Path != "" }

// checkSocks4Address is str2sa_range's verdict on a "socks4" address
// (PA_O_RESOLVE | PA_O_PORT_OK | PA_O_PORT_MAND | PA_O_STREAM |
// PA_O_CONNECT): messages HAProxy ends with a newline keep it.
func checkSocks4Address(a string) string {
	if strings.HasPrefix(a, "fd@") {
		return "a file descriptor is not acceptable here in '" + a + "'\n"
	}
	if msg, ok := checkUnixAddress(a, ""); ok {
		if msg != "" {
			// Each of these messages ends with a newline.
			msg += "\n"
		}
		return msg
	}
	return checkDispatchAddress(a)
}

// readSocks4Addr reads a "socks4" address that checkSocks4Address
// accepted; the zero value when it cannot be read.
func readSocks4Addr(a string) Socks4Addr {
	if path, abstract, ok := UnixAddress(a); ok {
		return Socks4Addr{Path: path, Abstract: abstract}
	}
	network := "ip"
	for _, p := range [...]struct{ prefix, network string }{
		{"ipv4@", "ip4"}, {"tcp4@", "ip4"}, {"ipv6@", "ip6"}, {"tcp6@", "ip6"}, {"tcp@", "ip"},
	} {
		if rest, ok := strings.CutPrefix(a, p.prefix); ok {
			a, network = rest, p.network
			break
		}
	}
	host, port, ok := splitHostPort(a)
	if !ok {
		return Socks4Addr{}
	}
	n, _ := leadingInt(port)
	if n < 1 || n > 65535 {
		return Socks4Addr{}
	}
	var ip netip.Addr
	switch {
	case host == "" || host == "*":
		ip = netip.IPv4Unspecified()
		if network == "ip6" {
			ip = netip.IPv6Unspecified()
		}
	default:
		var err error
		if ip, err = netip.ParseAddr(host); err != nil {
			ip, ok = resolveFirst(network, host)
			if !ok {
				return Socks4Addr{}
			}
		}
	}
	return Socks4Addr{AddrPort: netip.AddrPortFrom(ip.Unmap(), uint16(n))}
}

// resolveFirst is the first address of a host name (str2ip2 takes the
// first answer), or of an inet_aton short form ("127.1").
func resolveFirst(network, host string) (netip.Addr, bool) {
	if isInetAton(host) {
		var v uint64
		parts := strings.Split(host, ".")
		for i, p := range parts {
			x, _ := strconv.ParseUint(p, 0, 64)
			if i < len(parts)-1 {
				v |= x << (8 * (3 - i))
			} else {
				v |= x
			}
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), network, host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, false
	}
	return ips[0], true
}

// indentMsg is HAProxy's indent_msg(msg, level): a message of one line
// loses its final newline; one of several lines starts on a line of its
// own, each line indented by level spaces, a final newline kept.
func indentMsg(msg string, level int) string {
	lf := strings.Count(msg, "\n")
	switch {
	case lf == 0:
		return msg
	case lf == 1 && strings.HasSuffix(msg, "\n"):
		return msg[:len(msg)-1]
	}
	pad := "\n" + strings.Repeat(" ", level)
	var b strings.Builder
	in := strings.TrimLeft(msg, "\n")
	for in != "" {
		b.WriteString(pad)
		// Each line goes with the newline ending it, but for the first
		// character, which is copied even when it is a newline.
		i := strings.IndexByte(in[1:], '\n')
		if i < 0 {
			b.WriteString(in)
			break
		}
		b.WriteString(in[:i+1])
		in = in[i+2:]
	}
	return b.String()
}
