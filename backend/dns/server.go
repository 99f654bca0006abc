package dns

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Kind says what an Update changed.
type Kind int

const (
	// KindAddr: the address changed (Addr is zero when it was cleared).
	KindAddr Kind = iota
	// KindMaint: the server entered resolver maintenance (SRV_ADMF_RMAINT)
	// for Cause; the backend logs MaintLog and marks it DOWN.
	KindMaint
	// KindReady: the server left resolver maintenance; the backend logs
	// ResolvesAgainLog, then Log when it is set.
	KindReady
	// KindFQDN: a server-template slot got the host name of an SRV item.
	KindFQDN
	// KindPort: a slot's port changed to the SRV port.
	KindPort
	// KindWeight: a slot's weight changed to the mapped SRV weight.
	KindWeight
	// KindReleased: a slot already in maintenance lost its SRV item; its
	// host name, address and port were cleared without a log.
	KindReleased
)

var kindNames = [...]string{"addr", "maint", "ready", "fqdn", "port", "weight", "released"}

func (k Kind) String() string { return kindNames[k] }

// State is what DNS decided for a server.
type State struct {
	Addr netip.Addr // zero when the server has no address
	// Port is the SRV port of a template slot, 0 otherwise.
	Port int
	// Weight is the SRV weight mapped to 0..256 ((w+255)/256), -1 while
	// no SRV item set it or with resolve-opts ignore-weight.
	Weight   int
	Hostname string
	// Maint is the resolver maintenance flag (RMAINT).
	Maint bool
}

// Update is one change, delivered in order from the resolver's goroutine.
type Update struct {
	Kind Kind
	// Server is the server's name (the slot's name for templates).
	Server string
	State  State
	// Cause is HAProxy's admin cause for KindMaint, e.g. CauseNX.
	Cause string
	// Log is the notice HAProxy logs for the change itself (address and
	// FQDN changes, "administratively READY"), without ".\n"; empty when
	// it logs nothing of its own.
	Log string
}

// Server follows the address of one host name for one server
// ("server <name> <fqdn>:<port> resolvers <id>"), or is one slot of a
// TemplateSet.
type Server struct {
	r        *Resolver
	opts     Options
	hostname string
	res      *resolution
	addr     netip.Addr
	maint    bool
	port     int
	weight   int
	ipRec    *item // the A/AAAA item whose address the server uses
	fn       func(Update)

	// server-template slots
	tmpl         *TemplateSet
	slot         int
	srvItem      *item
	noResolution bool
}

var errClosed = errors.New("resolver closed")

// validateHostname mirrors resolv_hostname_validation.
func validateHostname(name string) error {
	if len(name) > 255 {
		return errors.New("hostname too long")
	}
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if len(label) > 63 {
			return errors.New("one label too long")
		}
		for _, c := range label {
			if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return errors.New("found an invalid character")
			}
		}
	}
	return nil
}

// Subscribe starts resolving hostname for a server and calls fn for every
// change. The server starts with opts.Addr and opts.Maint (the init-addr
// outcome). Servers of the same backend asking for the same name share one
// resolution and, unless AllowDupIP, pick different addresses.
func (r *Resolver) Subscribe(hostname string, opts Options, fn func(Update)) (*Server, error) {
	if err := validateHostname(hostname); err != nil {
		return nil, fmt.Errorf("server %s/%s: %s: %w", opts.Backend, opts.Server, hostname, err)
	}
	s := r.newServer(opts, fn)
	s.hostname = strings.ToLower(strings.TrimSuffix(hostname, "."))
	r.mu.Lock()
	s.res = r.link(s, fqdnKey(hostname), opts.qtype(), time.Now())
	r.mu.Unlock()
	r.poke()
	return s, nil
}

func (r *Resolver) newServer(opts Options, fn func(Update)) *Server {
	if len(opts.Nets) > 5 {
		opts.Nets = opts.Nets[:5]
	}
	return &Server{r: r, opts: opts, addr: opts.Addr, maint: opts.Maint, weight: -1, fn: fn}
}

// State returns the server's current DNS state.
func (s *Server) State() State {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	return s.state()
}

func (s *Server) state() State {
	return State{Addr: s.addr, Port: s.port, Weight: s.weight, Hostname: s.hostname, Maint: s.maint}
}

// Close stops resolving for this server.
func (s *Server) Close() {
	s.r.mu.Lock()
	s.r.unlink(s, s.res)
	s.res = nil
	s.fn = nil
	s.r.mu.Unlock()
}

func (s *Server) emit(kind Kind, cause, log string) {
	u := Update{Kind: kind, Server: s.opts.Server, State: s.state(), Cause: cause, Log: log}
	if t := s.tmpl; t != nil {
		fn, slot := t.fn, s.slot
		if fn != nil {
			s.r.emit(func() { fn(slot, u) })
		}
		return
	}
	if fn := s.fn; fn != nil {
		s.r.emit(func() { fn(u) })
	}
}

// unlinkIP forgets the answer item the server's address came from.
func (s *Server) unlinkIP() {
	if it := s.ipRec; it != nil {
		it.servers = slices.DeleteFunc(it.servers, func(x *Server) bool { return x == s })
		s.ipRec = nil
	}
}

func (s *Server) linkIP(it *item) {
	s.unlinkIP()
	s.ipRec = it
	it.servers = append(it.servers, s)
}

// setAddr mirrors srv_update_addr.
func (s *Server) setAddr(ip netip.Addr, updater string) {
	if ip == s.addr {
		return
	}
	old := "(none)"
	if s.addr.IsValid() {
		old = s.addr.String()
	}
	log := fmt.Sprintf(msgAddrChange, s.opts.Backend, s.opts.Server, old, ip, updater)
	s.addr = ip
	s.emit(KindAddr, "", log)
}

// setMaint raises RMAINT for cause; the address is cleared when clear.
func (s *Server) setMaint(cause string, clear bool) {
	s.maint = true
	if clear {
		s.addr = netip.Addr{}
	}
	s.emit(KindMaint, cause, "")
}

// valid is snr_resolution_cb.
func (s *Server) valid(res *resolution, c *Counters, ns *nameserver) {
	if s.tmpl != nil && s.noResolution || s.res == nil {
		return
	}
	ip, code := res.pickIP(&s.opts, s.addr, s)
	noIP := false
	switch code {
	case updSrvIPNotFound:
		updater := UpdaterCache
		if c != nil {
			c.Update++
			updater = s.r.sec.Name + "/" + ns.ID
		}
		s.setAddr(ip, updater)
	case updNoIPFound:
		noIP = true
	}
	s.updateStatus(noIP)
}

// failed is snr_resolution_error_cb.
func (s *Server) failed(res *resolution) bool {
	if s.updateStatus(true) {
		s.unlinkIP()
		return false
	}
	return true
}

// updateStatus mirrors snr_update_srv_status: after an error the server
// keeps its address for the hold period of the status, then goes to
// maintenance. It reports whether the state changed.
func (s *Server) updateStatus(noIP bool) bool {
	res := s.res
	if res == nil {
		return s.srvrqUpdateStatus(noIP)
	}
	r := s.r
	var hold time.Duration
	var cause string
	switch res.status {
	case StatusNone:
		return false
	case StatusValid:
		if noIP {
			if s.maint {
				return false
			}
			s.setMaint(CauseNoIP, true)
			return true
		}
		if !s.maint {
			return false
		}
		s.maint = false
		s.emit(KindReady, "", fmt.Sprintf(msgReadyDNS, s.opts.Backend, s.opts.Server))
		return true
	case StatusNX:
		hold, cause = r.hold.nx, CauseNX
	case StatusTimeout:
		hold, cause = r.hold.timeout, CauseTimeout
	case StatusRefused:
		hold, cause = r.hold.refused, CauseRefused
	default:
		hold, cause = r.hold.other, CauseOther
	}
	if r.now.Before(res.lastValid.Add(hold)) || s.maint {
		return false
	}
	s.setMaint(cause, noIP)
	return true
}

// srvrqUpdateStatus mirrors srvrq_update_srv_status for template slots.
func (s *Server) srvrqUpdateStatus(noIP bool) bool {
	if s.tmpl == nil {
		return false
	}
	if !noIP {
		if s.maint {
			s.maint = false
			s.emit(KindReady, "", "")
		}
		return false
	}
	if s.maint {
		return false
	}
	s.setMaint(CauseSRVRemoved, false)
	return true
}

// Results of pickIP (RSLV_UPD_*).
const (
	updNo = iota + 1
	updSrvIPNotFound
	updNoIPFound
)

// pickIP mirrors resolv_get_ip_from_response. Each address scores 8 for the
// preferred family, 4 for a preferred network, 2 when no other server of
// the backend uses it and 1 when it is the current address; the best wins.
func (res *resolution) pickIP(opts *Options, cur netip.Addr, owner *Server) (netip.Addr, int) {
	if owner != nil && owner.ipRec != nil {
		return netip.Addr{}, updNo
	}
	prefer4 := opts.Prefer == IPv4
	var ip4, ip6 netip.Addr
	var found *item
	curFound := false
	max := -1
	for _, it := range res.answers {
		if it.typ != typeA && it.typ != typeAAAA {
			continue
		}
		score := 0
		if (it.typ == typeA) == prefer4 {
			score += 8
		}
		for _, n := range opts.Nets {
			if n.Addr().Is4() == (it.typ == typeA) && n.Contains(it.addr) {
				score += 4
				break
			}
		}
		if owner != nil {
			used := false
			for _, s := range it.servers {
				if s != owner && s.opts.Backend == owner.opts.Backend {
					used = true
					break
				}
			}
			if used {
				if !opts.AllowDupIP {
					continue
				}
			} else {
				score += 2
			}
		} else {
			score += 2
		}
		sel := it.addr == cur
		if sel {
			score++
		}
		if score > max {
			if it.typ == typeA {
				ip4 = it.addr
			} else {
				ip6 = it.addr
			}
			found, curFound = it, sel
			if score == 15 {
				if owner != nil {
					owner.linkIP(found)
				}
				return netip.Addr{}, updNo
			}
			max = score
		}
	}
	if !ip4.IsValid() && !ip6.IsValid() {
		return netip.Addr{}, updNoIPFound
	}
	ip := ip6
	if prefer4 && ip4.IsValid() || !ip6.IsValid() {
		ip = ip4
	}
	if owner != nil && found != nil {
		owner.linkIP(found)
	}
	// Internal round robin: the first item goes after those sharing its key.
	if len(res.answers) > 1 {
		first := res.answers[0]
		res.answers = res.answers[1:]
		res.insert(first)
	}
	if curFound {
		return ip, updNo
	}
	return ip, updSrvIPNotFound
}
