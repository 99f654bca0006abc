package proxyproto

import (
	"hash/crc32"
	"net/netip"
)

// Command is the v2 command nibble. A v1 "UNKNOWN" line parses as Local.
type Command uint8

// Commands (doc/proxy-protocol.txt section 2.2).
const (
	Local Command = 0x0
	Proxy Command = 0x1
)

// Address families and transports, as the v2 family byte holds them. A v1
// TCP4 line reports FamTCP4, TCP6 reports FamTCP6, UNKNOWN reports FamUnspec.
const (
	FamUnspec = 0x00
	FamTCP4   = 0x11
	FamUDP4   = 0x12
	FamTCP6   = 0x21
	FamUDP6   = 0x22
	FamUnix   = 0x31
	FamUnixDG = 0x32
)

// TLV types (doc/proxy-protocol.txt section 2.2.x).
const (
	TypeALPN      = 0x01
	TypeAuthority = 0x02
	TypeCRC32C    = 0x03
	TypeNoop      = 0x04
	TypeUniqueID  = 0x05
	TypeSSL       = 0x20
	SubSSLVersion = 0x21
	SubSSLCN      = 0x22
	SubSSLCipher  = 0x23
	SubSSLSigAlg  = 0x24
	SubSSLKeyAlg  = 0x25
	TypeNetNS     = 0x30
)

// SSL client flags of the SSL TLV.
const (
	ClientSSL      = 0x01
	ClientCertConn = 0x02
	ClientCertSess = 0x04
)

// Limits HAProxy applies to received TLVs (PP2_AUTHORITY_MAX, UNIQUEID_LEN).
const (
	MaxAuthority = 255
	MaxUniqueID  = 128
)

// signature opens every v2 header.
const signature = "\r\n\r\n\x00\r\nQUIT\n"

const v2HeaderLen = 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SSL is the content of an SSL TLV. HAProxy 2.6 does not read it on
// reception; it is decoded here for callers that want it, and a malformed
// one leaves the fields it could not reach empty instead of failing.
type SSL struct {
	Present bool
	Client  uint8
	Verify  uint32
	// Sub-TLV values, nil when absent.
	Version, CN, Cipher, SigAlg, KeyAlg []byte
}

// Header is a parsed PROXY header. Byte slices point into the buffer given
// to Parse. The zero value is a v1 "UNKNOWN" line without addresses.
type Header struct {
	// Version is 1 or 2.
	Version uint8
	// Command is Proxy when the sender relays a client, Local otherwise.
	Command Command
	// Family is the v2 family and transport byte, or its v1 equivalent.
	Family uint8
	// Src and Dst are set (IsValid) only when HAProxy takes them over the
	// socket's: v1 TCP4/TCP6 and v2 PROXY over TCP4/TCP6. Otherwise the
	// connection keeps its own addresses.
	Src, Dst netip.AddrPort
	// TLVs is the raw TLV area HAProxy walked (nil when it walks none). Use
	// NextTLV to iterate it, for unknown types included.
	TLVs []byte
	// Values of the known TLVs; nil when absent, empty when sent empty.
	// When a type repeats the last one wins, as in HAProxy.
	ALPN, Authority, UniqueID, NetNS []byte
	// CRC32C is true when a CRC32C TLV was present (and so verified).
	CRC32C bool
	SSL    SSL
}

// TLV is one type-length-value entry.
type TLV struct {
	Type  uint8
	Value []byte
}

// NextTLV splits the first TLV off b. It returns ok false when b is empty or
// too short for the TLV it starts with.
func NextTLV(b []byte) (t TLV, rest []byte, ok bool) {
	if len(b) < 3 {
		return TLV{}, b, false
	}
	n := 3 + (int(b[1])<<8 | int(b[2]))
	if n > len(b) {
		return TLV{}, b, false
	}
	return TLV{Type: b[0], Value: b[3:n]}, b[n:], true
}

// Parse reads a PROXY header at the start of b, the bytes received so far,
// following conn_recv_proxy. It returns the header and its length n, so the
// payload starts at b[n:]. ErrIncomplete means more bytes are needed; the
// other errors are final. Parse does not modify b and does not allocate.
// HAProxy peeks once, at most tune.bufsize bytes (16384 by default), and
// fails with ErrIncomplete's message when that read does not hold the whole
// header; pass Parse the same window to get the same verdicts.
func Parse(b []byte) (h Header, n int, err error) {
	if len(b) < 6 {
		return h, 0, ErrIncomplete
	}
	if string(b[:6]) == "PROXY " {
		return parseV1(b)
	}
	return parseV2(b)
}

func parseV1(b []byte) (h Header, n int, err error) {
	if len(b) < 9 {
		return h, 0, ErrIncomplete
	}
	h.Version = 1
	rest := b[6:]
	switch {
	case hasPrefix(rest, "TCP4 "):
		return parseTCP4(b, h)
	case hasPrefix(rest, "TCP6 "):
		return parseTCP6(b, h)
	case hasPrefix(rest, "UNKNOWN\r\n"):
		return h, 15, nil
	}
	// HAProxy compares a fixed width even past the bytes it received, so a
	// line cut inside the protocol word fails as an unhandled protocol.
	return h, 0, ErrBadProto
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func parseTCP4(b []byte, h Header) (Header, int, error) {
	p := 11
	src, p := inetaddrHost(b, p)
	if p == len(b) {
		return h, 0, ErrIncomplete
	}
	if b[p] != ' ' {
		return h, 0, ErrBadHeader
	}
	dst, p := inetaddrHost(b, p+1)
	if p == len(b) {
		return h, 0, ErrIncomplete
	}
	if b[p] != ' ' {
		return h, 0, ErrBadHeader
	}
	sport, p := readUint(b, p+1, len(b))
	if p == len(b) {
		return h, 0, ErrIncomplete
	}
	if b[p] != ' ' {
		return h, 0, ErrBadHeader
	}
	dport, p := readUint(b, p+1, len(b))
	if p > len(b)-2 {
		return h, 0, ErrIncomplete
	}
	if b[p] != '\r' || b[p+1] != '\n' {
		return h, 0, ErrBadHeader
	}
	h.Command, h.Family = Proxy, FamTCP4
	h.Src = netip.AddrPortFrom(addr4(src), uint16(sport))
	h.Dst = netip.AddrPortFrom(addr4(dst), uint16(dport))
	return h, p + 2, nil
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// inetaddrHost is HAProxy's inetaddr_host_lim_ret: up to four dot-separated
// groups, each valued by its last three digits (more are ignored, fewer or
// empty groups count as zero), summed with carries into a 32-bit address.
// It returns the address and the position of the first byte not consumed.
func inetaddrHost(b []byte, p int) (uint32, int) {
	var res uint32
	shift := 24
	text := p
	for {
		for p < len(b) && b[p]-'0' <= 9 {
			p++
		}
		var v, mul uint32 = 0, 1
		for d, k := p-1, 0; k < 3 && d >= text; d, k = d-1, k+1 {
			v += uint32(b[d]-'0') * mul
			mul *= 10
		}
		res += v << shift
		if shift == 0 || p == len(b) || b[p] != '.' {
			return res, p
		}
		shift -= 8
		p++
		text = p
	}
}

// readUint is HAProxy's read_uint: decimal digits from p up to end,
// wrapping at 32 bits. It returns the value and the first non-digit.
func readUint(b []byte, p, end int) (uint32, int) {
	var v uint32
	for p < end && b[p]-'0' <= 9 {
		v = v*10 + uint32(b[p]-'0')
		p++
	}
	return v, p
}

// parseTCP6 follows HAProxy's TCP6 branch: it scans to the first CR, turns
// every space into a field end, takes the first four fields as source,
// destination and ports, and hands the addresses to inet_pton as C strings
// (so a NUL byte ends a field early).
func parseTCP6(b []byte, h Header) (Header, int, error) {
	start := 11
	dstS, sportS, dportS := -1, -1, -1
	p := start
	for {
		if p > len(b)-2 {
			return h, 0, ErrIncomplete
		}
		if b[p] == '\r' {
			if b[p+1] != '\n' {
				return h, 0, ErrBadHeader
			}
			break
		}
		if b[p] == ' ' {
			switch {
			case dstS < 0:
				dstS = p + 1
			case sportS < 0:
				sportS = p + 1
			case dportS < 0:
				dportS = p + 1
			}
		}
		p++
	}
	cr := p
	if dstS < 0 || sportS < 0 || dportS < 0 {
		return h, 0, ErrBadHeader
	}
	sport, ok := portField(b, sportS, dportS-1)
	if !ok {
		return h, 0, ErrBadHeader
	}
	dport, ok := portField(b, dportS, cr)
	if !ok {
		return h, 0, ErrBadHeader
	}
	src, ok := pton6(cstr(b[start : dstS-1]))
	if !ok {
		return h, 0, ErrBadHeader
	}
	dst, ok := pton6(cstr(b[dstS : sportS-1]))
	if !ok {
		return h, 0, ErrBadHeader
	}
	h.Command, h.Family = Proxy, FamTCP6
	h.Src = netip.AddrPortFrom(netip.AddrFrom16(src), uint16(sport))
	h.Dst = netip.AddrPortFrom(netip.AddrFrom16(dst), uint16(dport))
	return h, cr + 2, nil
}

// portField reads a port whose digits must be followed by the field's end,
// by a space (which HAProxy turned into a NUL) or by a NUL byte.
func portField(b []byte, p, end int) (uint32, bool) {
	v, q := readUint(b, p, end)
	return v, q == end || b[q] == 0 || b[q] == ' '
}

// cstr cuts b at its first NUL byte, as a C string ends there.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func parseV2(b []byte) (h Header, n int, err error) {
	if len(b) < v2HeaderLen {
		return h, 0, ErrIncomplete
	}
	if string(b[:12]) != signature || b[12]&0xf0 != 0x20 {
		return h, 0, ErrNotHeader
	}
	total := v2HeaderLen + (int(b[14])<<8 | int(b[15]))
	if len(b) < total {
		return h, 0, ErrIncomplete
	}
	h.Version, h.Command, h.Family = 2, Command(b[12]&0x0f), b[13]
	switch h.Command {
	case Local:
		// HAProxy 2.6 neither reads nor checks the TLVs of a LOCAL header.
		return h, total, nil
	case Proxy:
	default:
		return h, 0, ErrBadHeader
	}
	// HAProxy leaves the TLV offset at zero for other families.
	first := 0
	switch h.Family {
	case FamTCP4:
		first = h.takeAddrs(b[v2HeaderLen:total], 4)
	case FamTCP6:
		first = h.takeAddrs(b[v2HeaderLen:total], 16)
	}
	if first < 0 {
		return Header{}, 0, ErrBadHeader
	}
	if first < total {
		h.TLVs = b[first:total]
	}
	if !h.readTLVs(b[:total], first) {
		return Header{}, 0, ErrBadHeader
	}
	return h, total, nil
}

// takeAddrs reads the address block of a TCP family whose addresses are
// size bytes long. It returns the offset of the first TLV in the header, or
// -1 when the block is shorter than the family needs.
func (h *Header) takeAddrs(a []byte, size int) int {
	if len(a) < 2*size+4 {
		return -1
	}
	src, _ := netip.AddrFromSlice(a[:size])
	dst, _ := netip.AddrFromSlice(a[size : 2*size])
	h.Src = netip.AddrPortFrom(src, be16(a[2*size:]))
	h.Dst = netip.AddrPortFrom(dst, be16(a[2*size+2:]))
	return v2HeaderLen + 2*size + 4
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// readTLVs walks the TLVs of hdr from offset first with HAProxy's checks:
// each must fit, CRC32C must be 4 bytes and match, AUTHORITY and UNIQUE_ID
// have a maximum length.
func (h *Header) readTLVs(hdr []byte, first int) bool {
	for off := first; off < len(hdr); {
		t, _, ok := NextTLV(hdr[off:])
		if !ok {
			return false
		}
		switch t.Type {
		case TypeCRC32C:
			if len(t.Value) != 4 {
				return false
			}
			want := uint32(t.Value[0])<<24 | uint32(t.Value[1])<<16 | uint32(t.Value[2])<<8 | uint32(t.Value[3])
			if crcZeroed(hdr, first, off) != want {
				return false
			}
			h.CRC32C = true
		case TypeAuthority:
			if len(t.Value) > MaxAuthority {
				return false
			}
			h.Authority = t.Value
		case TypeUniqueID:
			if len(t.Value) > MaxUniqueID {
				return false
			}
			h.UniqueID = t.Value
		case TypeALPN:
			h.ALPN = t.Value
		case TypeNetNS:
			h.NetNS = t.Value
		case TypeSSL:
			h.SSL = parseSSL(t.Value)
		}
		off += 3 + len(t.Value)
	}
	return true
}

var zero4 [4]byte

// crcZeroed is the CRC32C of hdr with the value of every CRC32C TLV up to
// the one at offset upto read as zero: HAProxy zeroes each one in its
// buffer before checking it, so earlier ones stay zeroed.
func crcZeroed(hdr []byte, first, upto int) uint32 {
	var crc uint32
	pos := 0
	for off := first; off <= upto; {
		l := int(hdr[off+1])<<8 | int(hdr[off+2])
		if hdr[off] == TypeCRC32C && l == 4 {
			crc = crc32.Update(crc, castagnoli, hdr[pos:off+3])
			crc = crc32.Update(crc, castagnoli, zero4[:])
			pos = off + 7
		}
		off += 3 + l
	}
	return crc32.Update(crc, castagnoli, hdr[pos:])
}

func parseSSL(v []byte) SSL {
	s := SSL{Present: true}
	if len(v) < 5 {
		return s
	}
	s.Client = v[0]
	s.Verify = uint32(v[1])<<24 | uint32(v[2])<<16 | uint32(v[3])<<8 | uint32(v[4])
	for rest := v[5:]; ; {
		t, r, ok := NextTLV(rest)
		if !ok {
			return s
		}
		rest = r
		switch t.Type {
		case SubSSLVersion:
			s.Version = t.Value
		case SubSSLCN:
			s.CN = t.Value
		case SubSSLCipher:
			s.Cipher = t.Value
		case SubSSLSigAlg:
			s.SigAlg = t.Value
		case SubSSLKeyAlg:
			s.KeyAlg = t.Value
		}
	}
}
