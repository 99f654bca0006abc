package dns

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Section is a parsed "resolvers" section (configuration.txt 5.3.2). Zero
// durations and counts take HAProxy's defaults when passed to New.
type Section struct {
	// Name is the section id, shown by "show resolvers" and in the
	// "<resolvers>/<nameserver>" updater of address change logs.
	Name string
	// Nameservers are queried all at once, in this order.
	Nameservers []Nameserver
	// AcceptedPayloadSize is announced in the EDNS0 OPT record of every
	// query; larger responses are dropped and counted as too_big. Default 512.
	AcceptedPayloadSize int
	// ResolveRetries is the number of queries sent before giving up. Default 3.
	ResolveRetries int
	// TimeoutResolve is the interval between two resolutions of a name. Default 1s.
	TimeoutResolve time.Duration
	// TimeoutRetry is how long a query waits for answers before it is sent again. Default 1s.
	TimeoutRetry time.Duration
	// Hold periods per last status; nil means the default (valid 10s,
	// obsolete 0s, the others 30s).
	HoldValid, HoldNX, HoldOther, HoldRefused, HoldTimeout, HoldObsolete *time.Duration
}

// Nameserver is one "nameserver <id> <address>" line.
type Nameserver struct {
	ID   string
	Addr netip.AddrPort
	// TCP is set by the "tcp@" prefix; queries then go over a stream.
	TCP bool
}

// ParseNameserver reads the address argument of a nameserver line:
// "ip:port", "udp@ip:port" or "tcp@ip:port". Host names are not resolved.
func ParseNameserver(id, arg string) (Nameserver, error) {
	ns := Nameserver{ID: id}
	switch {
	case strings.HasPrefix(arg, "tcp@"), strings.HasPrefix(arg, "tcp4@"), strings.HasPrefix(arg, "tcp6@"):
		ns.TCP = true
		arg = arg[strings.IndexByte(arg, '@')+1:]
	case strings.HasPrefix(arg, "udp@"), strings.HasPrefix(arg, "udp4@"), strings.HasPrefix(arg, "udp6@"):
		arg = arg[strings.IndexByte(arg, '@')+1:]
	}
	ap, err := netip.ParseAddrPort(arg)
	if err != nil {
		return ns, fmt.Errorf("nameserver %s: %w", id, err)
	}
	ns.Addr = ap
	return ns, nil
}

// ParseResolvConf returns the nameservers of a resolv.conf file as the
// "parse-resolv-conf" keyword adds them: named after their address, port 53,
// duplicates of already present names and unparsable addresses skipped with
// a warning worded as HAProxy's.
func ParseResolvConf(path string, existing []Nameserver) ([]Nameserver, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to open %s.", path)
	}
	defer f.Close()
	seen := map[string]bool{}
	for _, ns := range existing {
		seen[ns.ID] = true
	}
	var out []Nameserver
	var warns []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if !strings.HasPrefix(text, "nameserver") {
			continue
		}
		rest := text[len("nameserver"):]
		if rest != "" && !strings.ContainsAny(rest[:1], "\r\n\t ") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			warns = append(warns, fmt.Sprintf(msgResolvConfNoAddr, path, line))
			continue
		}
		addr := fields[0]
		if seen[addr] {
			warns = append(warns, fmt.Sprintf(msgResolvConfDup, path, line, addr))
			continue
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			warns = append(warns, fmt.Sprintf(msgResolvConfBadAddr, path, line, addr))
			continue
		}
		seen[addr] = true
		out = append(out, Nameserver{ID: addr, Addr: netip.AddrPortFrom(ip, 53)})
	}
	return out, warns, sc.Err()
}

// Family is a "resolve-prefer" value.
type Family int

const (
	// IPv6 is HAProxy's default preference for servers and do-resolve.
	IPv6 Family = iota
	// IPv4 queries A records first.
	IPv4
)

// Options are the per-server resolution settings (configuration.txt 5.2:
// resolve-prefer, resolve-net, resolve-opts). The zero value prefers IPv6,
// has no preferred network and prevents duplicate addresses.
type Options struct {
	// Backend and Server name the server in logs; servers of the same
	// Backend avoid picking the same address unless AllowDupIP.
	Backend, Server string
	Prefer          Family
	// Nets are the "resolve-net" networks, at most 5 are used.
	Nets         []netip.Prefix
	AllowDupIP   bool
	IgnoreWeight bool
	// Addr is the address the server starts with (from init-addr); Maint
	// says it starts in resolver maintenance ("init-addr none" failed).
	Addr  netip.Addr
	Maint bool
}

func (o *Options) qtype() uint16 {
	if o.Prefer == IPv4 {
		return typeA
	}
	return typeAAAA
}

// InitMethod is one "init-addr" method.
type InitMethod struct {
	Kind InitKind
	IP   netip.Addr // for InitIP
}

// InitKind names an init-addr method.
type InitKind int

const (
	InitLast InitKind = iota
	InitLibc
	InitNone
	InitIP
)

// ParseInitAddr parses the "init-addr" argument, a comma separated list of
// last, libc, none and IP addresses.
func ParseInitAddr(arg string) ([]InitMethod, error) {
	var out []InitMethod
	for _, w := range strings.Split(arg, ",") {
		switch w {
		case "last":
			out = append(out, InitMethod{Kind: InitLast})
		case "libc":
			out = append(out, InitMethod{Kind: InitLibc})
		case "none":
			out = append(out, InitMethod{Kind: InitNone})
		default:
			ip, err := netip.ParseAddr(w)
			if err != nil {
				return nil, fmt.Errorf("'%s' : unsupported or invalid method '%s'", arg, w)
			}
			out = append(out, InitMethod{Kind: InitIP, IP: ip})
		}
	}
	return out, nil
}

// InitResult is the outcome of the init-addr chain for one server.
type InitResult struct {
	Addr netip.Addr
	// Maint is set when "none" was reached: the server starts in
	// resolver maintenance (RMAINT).
	Maint bool
	// Warning is HAProxy's warning text when a method failed before a
	// fallback succeeded, empty otherwise.
	Warning string
}

// InitAddr runs the init-addr chain as srv_iterate_initaddr does at startup.
// name is the server's host name (or the SRV label), last the address from
// a server state file ("" when none), hasResolvers whether a "resolvers"
// keyword is set (which appends "none" to the default "last,libc"), and
// lookup the system resolver (net.DefaultResolver when nil). The error text
// is HAProxy's ALERT.
func InitAddr(methods []InitMethod, name, last string, hasResolvers bool, lookup func(string) (netip.Addr, error)) (InitResult, error) {
	if len(methods) == 0 {
		methods = []InitMethod{{Kind: InitLast}, {Kind: InitLibc}}
		if hasResolvers {
			methods = append(methods, InitMethod{Kind: InitNone})
		}
	}
	if lookup == nil {
		lookup = libcLookup
	}
	failed := false
	for _, m := range methods {
		switch m.Kind {
		case InitLast:
			if last == "" {
				continue
			}
			if ip, err := netip.ParseAddr(last); err == nil {
				return InitResult{Addr: ip}, nil
			}
			failed = true
		case InitLibc:
			if name == "" || strings.HasPrefix(name, "_") {
				continue
			}
			if ip, err := lookup(name); err == nil {
				return InitResult{Addr: ip}, nil
			}
			failed = true
		case InitNone:
			res := InitResult{Maint: true}
			if failed {
				res.Warning = fmt.Sprintf(msgInitDisabling, name)
			}
			return res, nil
		case InitIP:
			res := InitResult{Addr: m.IP}
			if failed {
				res.Warning = fmt.Sprintf(msgInitFallback, name)
			}
			return res, nil
		}
	}
	if !failed {
		return InitResult{}, fmt.Errorf(msgInitNoMethod, name)
	}
	return InitResult{}, fmt.Errorf(msgInitFailed, name)
}

// libcLookup resolves like getaddrinfo with AF_UNSPEC: the first address.
func libcLookup(name string) (netip.Addr, error) {
	ips, err := net.DefaultResolver.LookupNetIP(bgctx, "ip", name)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("no address for %s", name)
	}
	return ips[0].Unmap(), nil
}
