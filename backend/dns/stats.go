package dns

import (
	"fmt"
	"strings"
)

// NameserverStats are the counters of one nameserver.
type NameserverStats struct {
	ID string
	Counters
}

// Stats returns the counters of every nameserver, in configuration order.
func (r *Resolver) Stats() []NameserverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]NameserverStats, len(r.ns))
	for i, ns := range r.ns {
		out[i] = NameserverStats{ID: ns.ID, Counters: ns.c}
	}
	return out
}

// ShowResolvers renders the "show resolvers [id]" CLI answer of HAProxy 2.6
// (cli_io_handler_dump_resolvers_to_buffer) for the given sections, in
// order. id selects one section; an unknown id gives HAProxy's error text
// and false.
func ShowResolvers(sections []*Resolver, id string) (string, bool) {
	if id != "" {
		var found *Resolver
		for _, r := range sections {
			if r.sec.Name == id {
				found = r
				break
			}
		}
		if found == nil {
			return msgNoSuchSection, false
		}
		sections = []*Resolver{found}
	}
	if len(sections) == 0 {
		return msgNoResolvers, true
	}
	var b strings.Builder
	for _, r := range sections {
		fmt.Fprintf(&b, "Resolvers section %s\n", r.sec.Name)
		for _, ns := range r.Stats() {
			c := ns.Counters
			fmt.Fprintf(&b, " nameserver %s:\n", ns.ID)
			for _, f := range []struct {
				name string
				v    uint64
			}{
				{"sent", c.Sent}, {"snd_error", c.SndError}, {"valid", c.Valid},
				{"update", c.Update}, {"cname", c.CNAME}, {"cname_error", c.CNAMEError},
				{"any_err", c.AnyErr}, {"nx", c.NX}, {"timeout", c.Timeout},
				{"refused", c.Refused}, {"other", c.Other}, {"invalid", c.Invalid},
				{"too_big", c.TooBig}, {"truncated", c.Truncated}, {"outdated", c.Outdated},
			} {
				fmt.Fprintf(&b, "  %-12s %d\n", f.name+":", f.v)
			}
		}
	}
	return b.String(), true
}
