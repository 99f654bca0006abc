package logfmt

// This file reads the "log" lines of the global and proxy sections into
// target settings; runtime/logging sends to them.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Level is a syslog severity: 0 (emerg) to 7 (debug).
type Level int

// Levels in HAProxy's order (log_levels[]).
var levelNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

const (
	LevelEmerg Level = iota
	LevelAlert
	LevelCrit
	LevelErr
	LevelWarning
	LevelNotice
	LevelInfo
	LevelDebug
)

var facilityNames = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// ParseLevel returns the level named s, or -1 (get_log_level()).
func ParseLevel(s string) Level {
	for i := len(levelNames) - 1; i >= 0; i-- {
		if levelNames[i] == s {
			return Level(i)
		}
	}
	return -1
}

// ParseFacility returns the facility number named s, or -1.
func ParseFacility(s string) int {
	for i := len(facilityNames) - 1; i >= 0; i-- {
		if facilityNames[i] == s {
			return i
		}
	}
	return -1
}

// SyslogFormat is a target's header format (enum log_fmt).
type SyslogFormat uint8

const (
	// SyslogUnspec is the default: rfc3164 when a hostname is sent,
	// otherwise "local" (rfc3164 without the hostname).
	SyslogUnspec SyslogFormat = iota
	SyslogLocal
	SyslogRFC3164
	SyslogRFC5424
	SyslogPriority
	SyslogShort
	SyslogTimed
	SyslogISO
	SyslogRaw
)

var formatNames = [...]string{"", "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"}

func (f SyslogFormat) String() string {
	if int(f) < len(formatNames) && f != SyslogUnspec {
		return formatNames[f]
	}
	return "unspec"
}

// TargetKind is the transport of a target.
type TargetKind uint8

const (
	// UDP sends one datagram per line to Addr (or Host:Port).
	UDP TargetKind = iota
	// UnixDgram sends one datagram per line to the socket at Path.
	UnixDgram
	// FD writes one line per write to an inherited file descriptor
	// (stdout, stderr, fd@N).
	FD
	// Stream is a TCP or unix stream target ("tcp@", "uxst@"): HAProxy
	// feeds it through an implicit ring (Ring) whose forwarder sends each
	// line followed by LF.
	Stream
	// Ring is "ring@name": lines go to a named ring section, which is not
	// handled here.
	Ring
)

// MaxLenDefault is MAX_SYSLOG_LEN.
const MaxLenDefault = 1024

// SyslogPort is the port used when an IP target has none.
const SyslogPort = 514

// Range is one "low-high" sampling range (1-based, inclusive).
type Range struct{ Low, High uint32 }

// TargetConfig is one "log" line.
type TargetConfig struct {
	// Global is set for "log global": the caller copies the global
	// targets; no other field is set.
	Global bool

	Kind TargetKind
	// Addr is the resolved address of UDP and TCP targets. Host is set
	// instead (with Port) when the line named a host: New resolves it.
	Addr netip.AddrPort
	Host string
	Port uint16
	// Network is "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6", "unixgram"
	// or "unix", as Go's net package spells it.
	Network string
	// Path is the socket path of unix targets, the ring name of Ring.
	Path string
	// FD is the descriptor of FD targets.
	FD int
	// Abstract is set for "abns@" unix sockets.
	Abstract bool

	// MaxLen is "len" (default 1024).
	MaxLen int
	Format SyslogFormat
	// Sample holds the sorted "sample" ranges and SampleSize the period;
	// no sampling when Ranges is empty.
	Ranges     []Range
	SampleSize uint32
	Facility   int
	// Level is the maximum level sent (default debug), MinLevel the level
	// every line is raised to at least (default emerg, i.e. none).
	Level    Level
	MinLevel Level
	// Raw is the address word as written.
	Raw string
	// Ring names the implicit ring HAProxy feeds a Stream target through
	// ("ring#N", N counting the stream log lines in the order they are
	// read); the caller sets it.
	Ring string
}

// ParseTarget parses the words of a "log" line in a proxy section, words[0]
// being "log". The error text is what HAProxy prints after
// "parsing [file:line] : log : "; a few address errors end with "\n" as
// HAProxy's own do. It does not resolve host names nor touch the network.
func ParseTarget(words []string) (TargetConfig, error) {
	return parseTarget(words, false)
}

// ParseGlobalTarget is ParseTarget for a "log" line of the global section.
func ParseGlobalTarget(words []string) (TargetConfig, error) {
	return parseTarget(words, true)
}

func parseTarget(words []string, global bool) (TargetConfig, error) {
	arg := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	if arg(1) != "" && arg(2) == "" && arg(1) == "global" {
		if global {
			return TargetConfig{}, fmt.Errorf("'global' is not supported for a global syslog server")
		}
		return TargetConfig{Global: true}, nil
	}
	if arg(1) == "" || arg(2) == "" {
		or := "or global"
		if global {
			or = ""
		}
		return TargetConfig{}, fmt.Errorf("expects <address> and <facility> %s as arguments", or)
	}
	t := TargetConfig{Raw: arg(1), MaxLen: MaxLenDefault, Level: LevelDebug, MinLevel: LevelEmerg}
	cur := 2
	if arg(cur) == "len" {
		n := atoi(arg(cur + 1))
		if n < 80 || n > 65535 {
			return TargetConfig{}, fmt.Errorf("invalid log length '%s', must be between 80 and 65535", arg(cur+1))
		}
		t.MaxLen = n
		cur += 2
	}
	if arg(cur) == "format" {
		t.Format = parseFormat(arg(cur + 1))
		if t.Format == SyslogUnspec {
			return TargetConfig{}, fmt.Errorf("unknown log format '%s'", arg(cur+1))
		}
		cur += 2
	}
	if arg(cur) == "sample" {
		rgs, size, err := parseSample(arg(cur + 1))
		if err != nil {
			return TargetConfig{}, err
		}
		t.Ranges, t.SampleSize = rgs, size
		cur += 2
	}
	t.Facility = ParseFacility(arg(cur))
	if t.Facility < 0 {
		return TargetConfig{}, fmt.Errorf("unknown log facility '%s'", arg(cur))
	}
	cur++
	if arg(cur) != "" {
		if t.Level = ParseLevel(arg(cur)); t.Level < 0 {
			return TargetConfig{}, fmt.Errorf("unknown optional log level '%s'", arg(cur))
		}
		cur++
	}
	if arg(cur) != "" {
		if t.MinLevel = ParseLevel(arg(cur)); t.MinLevel < 0 {
			return TargetConfig{}, fmt.Errorf("unknown optional minimum log level '%s'", arg(cur))
		}
		cur++
	}
	if arg(cur) != "" {
		return TargetConfig{}, fmt.Errorf("cannot handle unexpected argument '%s'", arg(cur))
	}
	if err := parseAddress(&t, arg(1)); err != nil {
		return TargetConfig{}, err
	}
	return t, nil
}

// ParseFormat returns the log format named s (get_log_format()),
// SyslogUnspec when none is.
func ParseFormat(s string) SyslogFormat { return parseFormat(s) }

func parseFormat(s string) SyslogFormat {
	for f := len(formatNames) - 1; f > 0; f-- {
		if formatNames[f] == s {
			return SyslogFormat(f)
		}
	}
	return SyslogUnspec
}

// atoi is C's atoi(): leading blanks, a sign, digits, the rest ignored.
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<31 {
			n = 1 << 31
		}
	}
	if neg {
		return -n
	}
	return n
}

// readUint is read_uint(): digits from s[i:], stops at the first other byte.
func readUint(s string, i int) (uint32, int) {
	var n uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + uint64(s[i]-'0')
		if n > 0xffffffff {
			n = 0xffffffff
		}
		i++
	}
	return uint32(n), i
}

// parseSample follows the "sample" branch of parse_logsrv().
func parseSample(p string) ([]Range, uint32, error) {
	colon := strings.IndexByte(p, ':')
	if colon < 0 {
		return nil, 0, fmt.Errorf("Missing sample size")
	}
	ranges, sizeStr := p[:colon], p[colon+1:]
	var rgs []Range
	var maxHigh uint32
	for pos := 0; pos != len(ranges); {
		end := strings.IndexByte(ranges[pos:], ',')
		if end < 0 {
			end = len(ranges)
		} else {
			end += pos
		}
		low, q := readUint(ranges[:end], pos)
		high := low
		bad := low == 0 || (q != end && ranges[q] != '-')
		if !bad && q != end {
			high, q = readUint(ranges[:end], q+1)
			bad = high == 0 || high <= low || q != end
		}
		if bad {
			return nil, 0, fmt.Errorf("wrong sample range '%s'", ranges[pos:])
		}
		for _, r := range rgs {
			if (low >= r.Low && low <= r.High) || (high >= r.Low && high <= r.High) {
				return nil, 0, fmt.Errorf("ranges are overlapping")
			}
		}
		rgs = append(rgs, Range{low, high})
		maxHigh = max(maxHigh, high)
		if end < len(ranges) {
			end++
		}
		pos = end
	}
	if rgs == nil {
		return nil, 0, fmt.Errorf("no sampling ranges given")
	}
	size, q := readUint(sizeStr, 0)
	if size == 0 || q != len(sizeStr) {
		return nil, 0, fmt.Errorf("wrong sample size '%s' for sample range '%s'", sizeStr, ranges)
	}
	if size < maxHigh {
		return nil, 0, fmt.Errorf("sample size %d should be greater or equal to %d the maximum of the high ranges limits", size, maxHigh)
	}
	slices.SortStableFunc(rgs, func(a, b Range) int {
		switch {
		case a.High < b.Low:
			return -1
		case a.Low > b.High:
			return 1
		}
		return 0
	})
	return rgs, size, nil
}

// parseAddress follows str2sa_range() with the options parse_logsrv()
// passes (resolve, port allowed, raw fd, dgram by default, stream allowed).
func parseAddress(t *TargetConfig, raw string) error {
	s := raw
	switch s {
	case "stdout":
		s = "fd@1"
	case "stderr":
		s = "fd@2"
	}
	if strings.HasPrefix(s, "ring@") {
		t.Kind, t.Path = Ring, s[5:]
		return nil
	}
	if s == "" {
		return fmt.Errorf("'%s' resolves to an empty address (environment variable missing?)\n", raw)
	}
	stream := false
	if rest, ok := strings.CutPrefix(s, "stream+"); ok {
		s, stream = rest, true
	} else if rest, ok := strings.CutPrefix(s, "dgram+"); ok {
		s = rest
	}
	family := "" // "", "4", "6", "unix", "fd"
	prefixes := []struct {
		p      string
		family string
		stream int // -1 keep, 0 dgram, 1 stream
		abns   bool
	}{
		{"unix@", "unix", -1, false}, {"uxdg@", "unix", 0, false}, {"uxst@", "unix", 1, false},
		{"abns@", "unix", -1, true}, {"ip@", "", -1, false}, {"ipv4@", "4", -1, false},
		{"ipv6@", "6", -1, false}, {"tcp4@", "4", 1, false}, {"udp4@", "4", 0, false},
		{"tcp6@", "6", 1, false}, {"udp6@", "6", 0, false}, {"tcp@", "", 1, false},
		{"udp@", "", 0, false}, {"fd@", "fd", -1, false},
	}
	matched := false
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p.p); ok {
			s, family, t.Abstract, matched = rest, p.family, p.abns, true
			if p.stream >= 0 {
				stream = p.stream == 1
			}
			break
		}
	}
	if !matched {
		switch {
		case strings.HasPrefix(s, "quic4@"), strings.HasPrefix(s, "quic6@"), strings.HasPrefix(s, "sockpair@"):
			return fmt.Errorf("unsupported address '%s' for a log target", raw)
		case strings.HasPrefix(s, "/"):
			family = "unix"
		}
	}
	switch family {
	case "fd":
		n, err := strconv.Atoi(s)
		if s == "" || err != nil || n < 0 || strings.ContainsAny(s[:1], "+ ") {
			return fmt.Errorf("file descriptor '%s' is not a valid integer in '%s'\n", s, raw)
		}
		t.Kind, t.FD = FD, n
		return nil
	case "unix":
		maxLen := 107
		if !t.Abstract {
			maxLen -= 1 + 5 + 1 + 3
		}
		if len(s) > maxLen {
			return fmt.Errorf("socket path '%s' too long (max %d)\n", raw, maxLen)
		}
		t.Path = s
		if stream {
			t.Kind, t.Network = Stream, "unix"
		} else {
			t.Kind, t.Network = UnixDgram, "unixgram"
		}
		return nil
	}
	// IPv4 / IPv6 / host name, with an optional port after the last ':'
	// that is not inside brackets.
	host, port := s, ""
	if i := strings.LastIndexAny(s, ":]"); i >= 0 && s[i] == ':' {
		host, port = s[:i], s[i+1:]
	}
	var portN int
	switch {
	case port != "" && port[0] >= '0' && port[0] <= '9':
		if strings.IndexByte(port, '-') >= 0 {
			return fmt.Errorf("port range not permitted here in '%s'", raw)
		}
		portN = atoi(port)
		if portN > 65535 {
			return fmt.Errorf("invalid port '%s'", port)
		}
	case port != "" && (port[0] == '-' || port[0] == '+'):
		return fmt.Errorf("port offset not permitted here in '%s'", raw)
	case port != "":
		return fmt.Errorf("invalid character '%c' in port number '%s' in '%s'\n", port[0], port, raw)
	}
	if portN == 0 {
		portN = SyslogPort
	}
	t.Network = "udp"
	t.Kind = UDP
	if stream {
		t.Network, t.Kind = "tcp", Stream
	}
	t.Network += family
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	var addr netip.Addr
	switch {
	case h == "" || h == "*":
		addr = netip.IPv4Unspecified()
		if family == "6" {
			addr = netip.IPv6Unspecified()
		}
	default:
		a, err := netip.ParseAddr(h)
		if err != nil {
			a, err = InetAton(h)
		}
		if err != nil {
			if !validHostname(h) || strings.Trim(h, "0123456789.") == "" {
				// Digits and dots that are no address resolve to
				// nothing either.
				return fmt.Errorf("invalid address: '%s' in '%s'\n", host, raw)
			}
			t.Host, t.Port = h, uint16(portN)
			return nil
		}
		addr = a.WithZone("")
	}
	if family == "4" && !addr.Is4() || family == "6" && addr.Is4() {
		return fmt.Errorf("invalid address: '%s' in '%s'\n", host, raw)
	}
	t.Addr = netip.AddrPortFrom(addr, uint16(portN))
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// InetAton reads the short dotted forms inet_aton() takes ("1.2.3" is
// 1.2.0.3, "10.1" 10.0.0.1, "127" 0.0.0.127; a part with a leading 0 is
// octal, with 0x hexadecimal), which HAProxy's resolver takes as
// addresses.
func InetAton(h string) (netip.Addr, error) {
	bad := fmt.Errorf("not an inet_aton address: %q", h)
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return netip.Addr{}, bad
	}
	var v uint64
	for i, p := range parts {
		digits := p
		if len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X") {
			// inet_aton reads a part with 0x as hexadecimal.
			digits = strings.Trim(p[2:], "0123456789abcdefABCDEF")
		} else {
			digits = strings.Trim(p, "0123456789")
		}
		if p == "" || digits != "" {
			return netip.Addr{}, bad
		}
		// Each part is a byte, the last one the bytes left.
		max := uint64(255)
		if i == len(parts)-1 {
			max = 1<<(8*(5-len(parts))) - 1
		}
		n, err := strconv.ParseUint(p, 0, 64)
		if err != nil || n > max {
			return netip.Addr{}, bad
		}
		if i == len(parts)-1 {
			v = v<<(8*(5-len(parts))) | n
		} else {
			v = v<<8 | n
		}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}
