package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
)

var bgctx = context.Background()

// Status is the last status of a resolution (RSLV_STATUS_*).
type Status int

const (
	StatusNone Status = iota
	StatusValid
	StatusInvalid
	StatusError
	StatusNX
	StatusRefused
	StatusTimeout
	StatusOther
)

var statusNames = [...]string{"none", "valid", "invalid", "error", "NX", "refused", "timeout", "other"}

func (s Status) String() string { return statusNames[s] }

// Counters are the per-nameserver counters of "show resolvers". timeout and
// cname exist in the output but HAProxy 2.6 never increments them.
type Counters struct {
	Sent, SndError, Valid, Update, CNAME, CNAMEError, AnyErr, NX, Timeout,
	Refused, Other, Invalid, TooBig, Truncated, Outdated uint64
}

type nameserver struct {
	Nameserver
	c    Counters
	udp  net.Conn
	tcpq chan []byte // queries for the TCP writer
}

type packet struct {
	ns  *nameserver
	buf []byte
}

// requester is something a resolution reports to (resolv_requester): a
// server, a server-template SRV request or a do-resolve lookup.
type requester interface {
	// valid is requester_cb; c is nil for all but the first requester,
	// whose updates are attributed to the answering nameserver.
	valid(res *resolution, c *Counters, ns *nameserver)
	// failed is requester_error_cb; it reports whether answer items must
	// be kept.
	failed(res *resolution) bool
}

// Resolver runs the resolutions of one resolvers section in the background.
type Resolver struct {
	sec  Section
	hold struct{ valid, nx, other, refused, timeout, obsolete time.Duration }
	ns   []*nameserver

	mu   sync.Mutex
	curr []*resolution // running, in order of last query
	wait []*resolution
	qids map[uint16]*resolution
	out  []func()  // callbacks to run once the lock is released
	now  time.Time // time of the event being processed

	rx   chan packet
	wake chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func durOr(d *time.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return *d
}

// New opens the nameserver sockets and starts resolving. Close stops it.
func New(sec Section) (*Resolver, error) {
	if sec.AcceptedPayloadSize == 0 {
		sec.AcceptedPayloadSize = 512
	}
	if sec.AcceptedPayloadSize < headerSize || sec.AcceptedPayloadSize > 65535 {
		return nil, fmt.Errorf("resolvers %s: accepted_payload_size must be between %d and 65535", sec.Name, headerSize)
	}
	if sec.ResolveRetries == 0 {
		sec.ResolveRetries = 3
	}
	if sec.TimeoutResolve == 0 {
		sec.TimeoutResolve = time.Second
	}
	if sec.TimeoutRetry == 0 {
		sec.TimeoutRetry = time.Second
	}
	r := &Resolver{
		sec:  sec,
		qids: map[uint16]*resolution{},
		rx:   make(chan packet, 256),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
	r.hold.valid = durOr(sec.HoldValid, 10*time.Second)
	r.hold.nx = durOr(sec.HoldNX, 30*time.Second)
	r.hold.other = durOr(sec.HoldOther, 30*time.Second)
	r.hold.refused = durOr(sec.HoldRefused, 30*time.Second)
	r.hold.timeout = durOr(sec.HoldTimeout, 30*time.Second)
	r.hold.obsolete = durOr(sec.HoldObsolete, 0)
	for _, cfg := range sec.Nameservers {
		ns := &nameserver{Nameserver: cfg}
		if cfg.TCP {
			ns.tcpq = make(chan []byte, 64)
			r.wg.Add(1)
			go r.tcpLoop(ns)
		} else {
			c, err := net.Dial("udp", cfg.Addr.String())
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("resolvers '%s': can't connect socket for nameserver '%s': %w", sec.Name, cfg.ID, err)
			}
			ns.udp = c
			r.wg.Add(1)
			go r.udpLoop(ns)
		}
		r.ns = append(r.ns, ns)
	}
	r.wg.Add(1)
	go r.loop()
	return r, nil
}

// Close stops all resolutions and closes the sockets. No callback runs
// after it returns.
func (r *Resolver) Close() error {
	r.once.Do(func() {
		close(r.stop)
		for _, ns := range r.ns {
			if ns.udp != nil {
				ns.udp.Close()
			}
		}
	})
	r.wg.Wait()
	return nil
}

// Name returns the resolvers section id.
func (r *Resolver) Name() string { return r.sec.Name }

func (r *Resolver) udpLoop(ns *nameserver) {
	defer r.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := ns.udp.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// ICMP unreachable and the like: keep reading.
			select {
			case <-r.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		select {
		case r.rx <- packet{ns, slices.Clone(buf[:n])}:
		case <-r.stop:
			return
		}
	}
}

// tcpLoop keeps one stream to a tcp@ nameserver, dialled on demand, and
// reads length-prefixed responses from it.
func (r *Resolver) tcpLoop(ns *nameserver) {
	defer r.wg.Done()
	var c net.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		select {
		case <-r.stop:
			return
		case q := <-ns.tcpq:
			if c == nil {
				d := net.Dialer{Timeout: r.sec.TimeoutRetry}
				var err error
				if c, err = d.Dial("tcp", ns.Addr.String()); err != nil {
					c = nil
					continue
				}
				r.wg.Add(1)
				go r.tcpRead(ns, c)
			}
			msg := binary.BigEndian.AppendUint16(nil, uint16(len(q)))
			if _, err := c.Write(append(msg, q...)); err != nil {
				c.Close()
				c = nil
			}
		}
	}
}

func (r *Resolver) tcpRead(ns *nameserver, c net.Conn) {
	defer r.wg.Done()
	go func() {
		<-r.stop
		c.Close()
	}()
	var l [2]byte
	for {
		if _, err := readFull(c, l[:]); err != nil {
			c.Close()
			return
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := readFull(c, buf); err != nil {
			c.Close()
			return
		}
		select {
		case r.rx <- packet{ns, buf}:
		case <-r.stop:
			return
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (r *Resolver) loop() {
	defer r.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		var p *packet
		select {
		case <-r.stop:
			return
		case pk := <-r.rx:
			p = &pk
		case <-t.C:
		case <-r.wake:
		}
		r.mu.Lock()
		now := time.Now()
		r.now = now
		if p != nil {
			r.processResponse(p.ns, p.buf, now)
		}
		r.process(now)
		next := r.nextWake(now)
		out := r.out
		r.out = nil
		r.mu.Unlock()
		for _, f := range out {
			f()
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(next.Sub(time.Now()))
	}
}

// poke wakes the loop (task_wakeup).
func (r *Resolver) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// emit queues a callback to run outside the lock, in order.
func (r *Resolver) emit(f func()) { r.out = append(r.out, f) }

// nextWake mirrors resolv_update_resolvers_timeout.
func (r *Resolver) nextWake(now time.Time) time.Time {
	next := now.Add(r.sec.TimeoutResolve)
	if len(r.curr) > 0 {
		if t := r.curr[0].lastQuery.Add(r.sec.TimeoutRetry); t.Before(next) {
			next = t
		}
	}
	for _, res := range r.wait {
		t := now
		if !res.lastResolution.IsZero() {
			t = res.lastResolution.Add(r.sec.TimeoutResolve)
		}
		if t.Before(next) {
			next = t
		}
	}
	return next
}

// process mirrors process_resolvers: retries and timeouts of running
// resolutions, then starts the ones whose interval elapsed.
func (r *Resolver) process(now time.Time) {
	for _, res := range slices.Clone(r.curr) {
		if res.where != inCurr {
			continue
		}
		if len(res.reqs) == 0 {
			r.abort(res)
			continue
		}
		if now.Before(res.lastQuery.Add(r.sec.TimeoutRetry)) {
			break
		}
		if res.try == 0 {
			if res.nbResponses == 0 {
				res.status = StatusTimeout
			}
			r.reportError(res, now)
			continue
		}
		if res.nbResponses == 0 || res.prefType != res.qType {
			res.qType = res.prefType
			res.try--
		} else if alt := otherFamily(res.prefType); alt != 0 {
			res.qType = alt
		} else {
			res.try--
		}
		r.send(res, now)
	}
	for _, res := range slices.Clone(r.wait) {
		if res.where != inWait {
			continue
		}
		if len(res.reqs) == 0 {
			r.abort(res)
			continue
		}
		if !res.lastResolution.IsZero() && now.Before(res.lastResolution.Add(r.sec.TimeoutResolve)) {
			continue
		}
		if !r.run(res, now) {
			res.lastResolution = now
			r.moveTo(res, inWait)
		}
	}
}

func otherFamily(t uint16) uint16 {
	switch t {
	case typeA:
		return typeAAAA
	case typeAAAA:
		return typeA
	}
	return 0
}

// run starts a resolution (resolv_run_resolution).
func (r *Resolver) run(res *resolution, now time.Time) bool {
	if res.fqdn == "" || res.running {
		return false
	}
	id, ok := uint16(0), false
	for range 100 {
		id = uint16(rand.Uint32())
		if _, used := r.qids[id]; !used {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	res.qid = id
	r.qids[id] = res
	res.running = true
	res.qType = res.prefType
	res.try = r.sec.ResolveRetries - 1
	r.send(res, now)
	return true
}

// send queries every nameserver (resolv_send_query).
func (r *Resolver) send(res *resolution, now time.Time) {
	res.nbQueries, res.nbResponses = 0, 0
	res.lastQuery = now
	q, err := buildQuery(res.qid, res.qType, res.fqdn, r.sec.AcceptedPayloadSize)
	if err == nil {
		for _, ns := range r.ns {
			if ns.send(q) {
				res.nbQueries++
			}
		}
	}
	r.moveTo(res, inCurr)
}

func (ns *nameserver) send(q []byte) bool {
	if ns.udp != nil {
		if _, err := ns.udp.Write(q); err != nil {
			ns.c.SndError++
			return false
		}
		ns.c.Sent++
		return true
	}
	select {
	case ns.tcpq <- q:
		ns.c.Sent++
		return true
	default:
		ns.c.SndError++
		return false
	}
}

// reset mirrors resolv_reset_resolution.
func (r *Resolver) reset(res *resolution, now time.Time) {
	res.running = false
	res.try = 0
	res.lastResolution = now
	res.nbQueries, res.nbResponses = 0, 0
	res.qType = res.prefType
	if r.qids[res.qid] == res {
		delete(r.qids, res.qid)
	}
	res.qid = 0
}

func (r *Resolver) moveTo(res *resolution, where int) {
	r.unlist(res)
	res.where = where
	if where == inCurr {
		r.curr = append(r.curr, res)
	} else if where == inWait {
		r.wait = append(r.wait, res)
	}
}

func (r *Resolver) unlist(res *resolution) {
	switch res.where {
	case inCurr:
		r.curr = slices.DeleteFunc(r.curr, func(x *resolution) bool { return x == res })
	case inWait:
		r.wait = slices.DeleteFunc(r.wait, func(x *resolution) bool { return x == res })
	}
	res.where = inNone
}

// abort frees a resolution nobody uses any more.
func (r *Resolver) abort(res *resolution) {
	r.reset(res, time.Time{})
	r.unlist(res)
	for _, req := range res.reqs {
		if l, ok := req.(*lookup); ok {
			l.finish(res, r)
		}
	}
	res.reqs = nil
	res.answers = nil
}

// reportError hands a failed resolution to its requesters.
func (r *Resolver) reportError(res *resolution, now time.Time) {
	keep := false
	for _, req := range slices.Clone(res.reqs) {
		if req.failed(res) {
			keep = true
		}
	}
	if !keep {
		res.purge()
	}
	r.reset(res, now)
	if res.where != inNone {
		r.moveTo(res, inWait)
	}
}

// processResponse mirrors resolv_process_responses for one message.
func (r *Resolver) processResponse(ns *nameserver, buf []byte, now time.Time) {
	if len(buf) > r.sec.AcceptedPayloadSize {
		ns.c.TooBig++
		return
	}
	if len(buf) < 2 {
		ns.c.Invalid++
		return
	}
	res := r.qids[binary.BigEndian.Uint16(buf)]
	if res == nil {
		ns.c.Outdated++
		return
	}
	res.nbResponses++
	rep, code := parseResponse(buf, res.fqdn, (r.sec.AcceptedPayloadSize-headerSize)/minRecordSize)
	if code != respValid {
		m := errorStatus(code)
		res.status = m.status
		*m.counter(&ns.c)++
	}
	if code != respValid {
		// Wait for every nameserver before acting on errors.
		if res.nbResponses < res.nbQueries {
			return
		}
		if res.prefType != res.qType {
			if res.try == 0 {
				r.reportError(res, now)
			}
		} else if alt := otherFamily(res.prefType); alt != 0 {
			res.qType = alt
			r.send(res, now)
		}
		return
	}
	r.merge(res, rep, now)
	res.status = StatusValid
	res.lastValid = now
	ns.c.Valid++
	c := &ns.c
	for _, req := range slices.Clone(res.reqs) {
		req.valid(res, c, ns)
		c = nil
	}
	r.reset(res, now)
	if res.where != inNone {
		r.moveTo(res, inWait)
	}
}

// respMapping is how a failed response is counted and what status it gives.
type respMapping struct {
	status  Status
	counter func(*Counters) *uint64
}

// errorStatus maps a response code as resolv_process_responses does.
func errorStatus(code respCode) respMapping {
	switch code {
	case respInvalid, respQueryCountError, respWrongName:
		return respMapping{StatusInvalid, func(c *Counters) *uint64 { return &c.Invalid }}
	case respNXDomain:
		return respMapping{StatusNX, func(c *Counters) *uint64 { return &c.NX }}
	case respRefused:
		return respMapping{StatusRefused, func(c *Counters) *uint64 { return &c.Refused }}
	case respAncountZero:
		return respMapping{StatusOther, func(c *Counters) *uint64 { return &c.AnyErr }}
	case respCNAMEError:
		return respMapping{StatusOther, func(c *Counters) *uint64 { return &c.CNAMEError }}
	case respTruncated:
		return respMapping{StatusOther, func(c *Counters) *uint64 { return &c.Truncated }}
	}
	return respMapping{StatusOther, func(c *Counters) *uint64 { return &c.Other }}
}

// Link states of a resolution.
const (
	inNone = iota
	inCurr
	inWait
)

// item is an answer record kept across responses (resolv_answer_item).
type item struct {
	record
	lastSeen time.Time
	ar       *item     // additional A/AAAA record of an SRV item
	servers  []*Server // servers using this address or SRV entry
}

// resolution is one name and preferred type, shared by every requester
// asking for it (resolv_resolution).
type resolution struct {
	fqdn           string // lower case, trailing dot
	prefType       uint16
	qType          uint16
	status         Status
	running        bool
	try            int
	nbQueries      int
	nbResponses    int
	lastResolution time.Time
	lastQuery      time.Time
	lastValid      time.Time
	qid            uint16
	answers        []*item // ordered by key, as HAProxy's eb32 tree
	reqs           []requester
	where          int
}

// purge drops all answer items.
func (res *resolution) purge() {
	for _, it := range res.answers {
		for _, s := range it.servers {
			if s.ipRec == it {
				s.ipRec = nil
			}
		}
	}
	res.answers = nil
}

// insert places it after the items with a key lower or equal.
func (res *resolution) insert(it *item) {
	i := len(res.answers)
	for i > 0 && res.answers[i-1].key > it.key {
		i--
	}
	res.answers = slices.Insert(res.answers, i, it)
}

func (res *resolution) remove(it *item) {
	res.answers = slices.DeleteFunc(res.answers, func(x *item) bool { return x == it })
}

// fqdnKey normalises a host name to the form resolutions are keyed on.
func fqdnKey(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// pick returns the resolution for name and type, creating it in the wait
// list (resolv_pick_resolution).
func (r *Resolver) pick(fqdn string, qtype uint16, now time.Time) *resolution {
	for _, l := range [][]*resolution{r.curr, r.wait} {
		for _, res := range l {
			if res.fqdn == fqdn && res.prefType == qtype {
				return res
			}
		}
	}
	res := &resolution{fqdn: fqdn, prefType: qtype, qType: qtype, lastValid: now}
	r.moveTo(res, inWait)
	return res
}

// link attaches req to the resolution of fqdn/qtype.
func (r *Resolver) link(req requester, fqdn string, qtype uint16, now time.Time) *resolution {
	res := r.pick(fqdn, qtype, now)
	res.reqs = append(res.reqs, req)
	return res
}

// unlink detaches req; a resolution left without requesters is freed.
func (r *Resolver) unlink(req requester, res *resolution) {
	if res == nil {
		return
	}
	res.reqs = slices.DeleteFunc(res.reqs, func(x requester) bool { return x == req })
	r.detach(res, req)
	if len(res.reqs) == 0 {
		r.abort(res)
	}
}

// detach removes req's references on answer items
// (resolv_detach_from_resolution_answer_items).
func (r *Resolver) detach(res *resolution, req requester) {
	switch v := req.(type) {
	case *Server:
		v.unlinkIP()
	case *TemplateSet:
		for _, it := range slices.Clone(res.answers) {
			if it.typ != typeSRV {
				continue
			}
			for _, s := range slices.Clone(it.servers) {
				if s.tmpl == v {
					r.cleanupSlot(s)
				}
			}
		}
	}
}

// merge adds the records of a valid reply to the answer items and applies
// the obsolete and SRV logic (end of resolv_validate_dns_response and
// resolv_check_response).
func (r *Resolver) merge(res *resolution, rep *reply, now time.Time) {
	for _, rec := range rep.answers {
		if rec.typ != typeA && rec.typ != typeAAAA && rec.typ != typeCNAME && rec.typ != typeSRV {
			continue
		}
		var found *item
		for _, it := range res.answers {
			if it.key != rec.key || it.typ != rec.typ {
				continue
			}
			switch rec.typ {
			case typeA, typeAAAA:
				if it.addr == rec.addr {
					found = it
				}
			case typeSRV:
				if it.target == rec.target && it.port == rec.port {
					it.weight = rec.weight
					found = it
				}
			}
			if found != nil {
				break
			}
		}
		if found != nil {
			found.lastSeen = now
			continue
		}
		res.insert(&item{record: rec, lastSeen: now})
	}
	if rep.qtype == typeSRV {
		r.mergeAdditional(res, rep, now)
	}
	r.checkResponse(res, now)
}

// mergeAdditional attaches additional A/AAAA records to SRV items whose
// target they name.
func (r *Resolver) mergeAdditional(res *resolution, rep *reply, now time.Time) {
	for _, rec := range rep.additional {
		found := false
		for _, it := range res.answers {
			ar := it.ar
			if it.typ != typeSRV || ar == nil || ar.typ != rec.typ || ar.lastSeen.Equal(now) ||
				!strings.EqualFold(rec.name, it.target) {
				continue
			}
			if ar.addr == rec.addr {
				ar.lastSeen = now
				found = true
				break
			}
		}
		if found {
			continue
		}
		for _, it := range res.answers {
			if it.typ == typeSRV && it.ar == nil && strings.EqualFold(it.target, rec.name) {
				it.ar = &item{record: rec, lastSeen: now}
				break
			}
		}
	}
}

// obsolete reports whether an item was not seen for longer than hold obsolete.
func (r *Resolver) obsolete(it *item, now time.Time) bool {
	return it.lastSeen.Add(r.hold.obsolete).Before(now)
}

// checkResponse mirrors resolv_check_response: drops obsolete items and
// assigns SRV items to template slots.
func (r *Resolver) checkResponse(res *resolution, now time.Time) {
	for _, it := range slices.Clone(res.answers) {
		if it.ar != nil && r.obsolete(it.ar, now) {
			it.ar = nil
		}
		if r.obsolete(it, now) {
			switch it.typ {
			case typeA, typeAAAA:
				for _, s := range it.servers {
					s.ipRec = nil
				}
				it.servers = nil
			case typeSRV:
				for _, s := range slices.Clone(it.servers) {
					r.cleanupSlot(s)
				}
			}
			res.remove(it)
			continue
		}
		if it.typ != typeSRV {
			continue
		}
		for _, req := range slices.Clone(res.reqs) {
			if t, ok := req.(*TemplateSet); ok {
				r.assignSlot(t, it, now)
			}
		}
	}
}
