package dns

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// lookup is a do-resolve requester (act_resolution_cb).
type lookup struct {
	opts Options
	done chan struct{}
	ip   netip.Addr
	st   Status
}

func (l *lookup) valid(res *resolution, _ *Counters, _ *nameserver) {
	ip, _ := res.pickIP(&l.opts, netip.Addr{}, nil)
	l.finishWith(ip, StatusValid)
}

func (l *lookup) failed(res *resolution) bool {
	l.finishWith(netip.Addr{}, res.status)
	return false
}

func (l *lookup) finish(res *resolution, _ *Resolver) { l.finishWith(netip.Addr{}, res.status) }

func (l *lookup) finishWith(ip netip.Addr, st Status) {
	select {
	case <-l.done:
	default:
		l.ip, l.st = ip, st
		close(l.done)
	}
}

// LookupError is returned by Lookup when the resolution ended without a
// usable address.
type LookupError struct {
	Name   string
	Status Status
}

func (e *LookupError) Error() string {
	return fmt.Sprintf("resolve %s: %s", e.Name, e.Status)
}

// Lookup resolves name on demand as "http-request do-resolve" does: a fresh
// enough valid answer (within "hold valid") of a resolution already running
// for the same name and family, for a server for instance, is used at once;
// otherwise a resolution is triggered and Lookup waits for it or for ctx.
// As in HAProxy, the answer is not kept once no requester uses it.
func (r *Resolver) Lookup(ctx context.Context, name string, prefer Family) (netip.Addr, error) {
	if err := validateHostname(name); err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", name, err)
	}
	l := &lookup{opts: Options{Prefer: prefer}, done: make(chan struct{})}
	r.mu.Lock()
	now := time.Now()
	res := r.link(l, fqdnKey(name), l.opts.qtype(), now)
	if res.status == StatusValid && !res.lastResolution.IsZero() && now.Before(res.lastResolution.Add(r.hold.valid)) {
		l.valid(res, nil, nil)
	}
	r.mu.Unlock()
	r.poke()
	select {
	case <-l.done:
	case <-ctx.Done():
	}
	r.mu.Lock()
	r.unlink(l, res)
	r.mu.Unlock()
	select {
	case <-l.done:
	default:
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", name, ctx.Err())
	}
	if !l.ip.IsValid() {
		return netip.Addr{}, &LookupError{Name: name, Status: l.st}
	}
	return l.ip, nil
}
