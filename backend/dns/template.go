package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// TemplateSet is a "server-template <prefix> <num> _service._proto.name"
// line: an SRV request whose items fill server slots, in slot order, each
// slot taking the item's target, port and weight, and its address from
// the additional section or its own A/AAAA resolution.
type TemplateSet struct {
	r     *Resolver
	name  string
	slots []*Server
	free  []*Server // slots without an SRV item, in the order they are reused
	res   *resolution
	fn    func(slot int, u Update)
}

// Template starts the SRV resolution of name (which starts with '_') for the
// given server names (the template's prefix1..prefixN) and calls fn with the
// slot index for every change. opts apply to every slot; opts.Server is
// ignored.
func (r *Resolver) Template(name string, opts Options, servers []string, fn func(slot int, u Update)) (*TemplateSet, error) {
	if !strings.HasPrefix(name, "_") {
		return nil, fmt.Errorf("server-template %s: '%s' is not an SRV label", opts.Backend, name)
	}
	if err := validateHostname(name); err != nil {
		return nil, fmt.Errorf("server-template %s: failed to parse FQDN '%s': %w", opts.Backend, name, err)
	}
	t := &TemplateSet{r: r, name: name, fn: fn}
	for i, id := range servers {
		o := opts
		o.Server = id
		s := r.newServer(o, nil)
		s.tmpl, s.slot = t, i
		t.slots = append(t.slots, s)
	}
	t.free = slices.Clone(t.slots)
	r.mu.Lock()
	t.res = r.link(t, fqdnKey(name), typeSRV, time.Now())
	r.mu.Unlock()
	r.poke()
	return t, nil
}

// States returns the current state of every slot.
func (t *TemplateSet) States() []State {
	t.r.mu.Lock()
	defer t.r.mu.Unlock()
	out := make([]State, len(t.slots))
	for i, s := range t.slots {
		out[i] = s.state()
	}
	return out
}

// Close stops the SRV resolution and those of the slots.
func (t *TemplateSet) Close() {
	r := t.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range t.slots {
		r.unlink(s, s.res)
		s.res = nil
	}
	r.unlink(t, t.res)
	t.res = nil
	t.fn = nil
}

// valid: the SRV work is done in checkResponse, as in HAProxy.
func (t *TemplateSet) valid(*resolution, *Counters, *nameserver) {}

// failed is srvrq_resolution_error_cb: slots keep their items for the hold
// period of the status, then are all released.
func (t *TemplateSet) failed(res *resolution) bool {
	r := t.r
	hold := r.hold.other
	switch res.status {
	case StatusNX:
		hold = r.hold.nx
	case StatusTimeout:
		hold = r.hold.timeout
	case StatusRefused:
		hold = r.hold.refused
	}
	if r.now.Before(res.lastValid.Add(hold)) {
		return true
	}
	r.detach(res, t)
	return false
}

// assignSlot gives an SRV item to the slot already holding it or to the
// first free slot (the SRV part of resolv_check_response).
func (r *Resolver) assignSlot(t *TemplateSet, it *item, now time.Time) {
	var s *Server
	for _, x := range it.servers {
		if x.tmpl == t {
			s = x
			break
		}
	}
	if s == nil {
		if len(t.free) == 0 {
			return
		}
		s = t.free[0]
		t.free = t.free[1:]
	}
	s.noResolution = false
	if ar := it.ar; ar != nil {
		s.setAddr(ar.addr, UpdaterAdditional)
		s.noResolution = true
		r.unlink(s, s.res)
		s.res = nil
	}
	if s.hostname == "" {
		host := strings.ToLower(strings.TrimSuffix(it.target, "."))
		log := fmt.Sprintf(msgFQDNChange, s.opts.Backend, s.opts.Server, "(null)", host, UpdaterSRV)
		s.hostname = host
		if !s.noResolution {
			r.unlink(s, s.res)
			s.res = r.link(s, fqdnKey(host), s.opts.qtype(), now)
		}
		s.emit(KindFQDN, "", log)
	}
	if s.srvItem != it {
		s.srvItem = it
		it.servers = append(it.servers, s)
	}
	if !s.noResolution && s.res == nil {
		s.res = r.link(s, fqdnKey(s.hostname), s.opts.qtype(), now)
	}
	s.srvrqUpdateStatus(!s.addr.IsValid())
	if p := int(it.port); p != s.port {
		s.port = p
		s.emit(KindPort, "", "")
	}
	if !s.opts.IgnoreWeight {
		if w := (int(it.weight) + 255) / 256; w != s.weight {
			s.weight = w
			s.emit(KindWeight, "", "")
		}
	}
}

// cleanupSlot releases a slot whose SRV item is gone
// (resolv_srvrq_cleanup_srv): maintenance, no host name, no address.
func (r *Resolver) cleanupSlot(s *Server) {
	r.unlink(s, s.res)
	s.res = nil
	wasMaint := s.maint
	s.maint = true
	s.hostname = ""
	s.addr = netip.Addr{}
	s.port = 0
	s.noResolution = true
	if it := s.srvItem; it != nil {
		it.servers = slices.DeleteFunc(it.servers, func(x *Server) bool { return x == s })
		s.srvItem = nil
	}
	t := s.tmpl
	t.free = append(slices.DeleteFunc(t.free, func(x *Server) bool { return x == s }), s)
	if wasMaint {
		s.emit(KindReleased, "", "")
	} else {
		s.emit(KindMaint, CauseSRVRemoved, "")
	}
}
