package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// FuzzResponse feeds arbitrary messages to the response validator and to the
// whole response path of a resolution with a server and a template
// attached. Nothing may panic.
func FuzzResponse(f *testing.F) {
	for _, m := range seedMessages() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		parseResponse(buf, "app.test.", 100)
		parseResponse(buf, "_http._tcp.app.test.", 100)

		r := &Resolver{qids: map[uint16]*resolution{}}
		r.sec.AcceptedPayloadSize = 4096
		r.sec.ResolveRetries = 3
		ns := &nameserver{Nameserver: Nameserver{ID: "ns1"}}
		now := time.Now()
		r.now = now
		s := r.newServer(Options{Backend: "be", Server: "s1"}, func(Update) {})
		s.hostname = "app.test"
		s.res = r.link(s, "app.test.", typeAAAA, now)
		ts := &TemplateSet{r: r, fn: func(int, Update) {}}
		for i := range 2 {
			sl := r.newServer(Options{Backend: "be", Server: "srv"}, nil)
			sl.tmpl, sl.slot = ts, i
			ts.slots = append(ts.slots, sl)
		}
		ts.free = append(ts.free, ts.slots...)
		ts.res = r.link(ts, "_http._tcp.app.test.", typeSRV, now)
		for _, res := range []*resolution{s.res, ts.res} {
			res.qid = uint16(len(r.qids) + 1)
			r.qids[res.qid] = res
			res.running, res.nbQueries = true, 1
			if len(buf) >= 2 {
				b := append([]byte{byte(res.qid >> 8), byte(res.qid)}, buf[2:]...)
				r.processResponse(ns, b, now)
			}
		}
		r.process(now.Add(time.Hour))
	})
}

func seedMessages() [][]byte {
	var out [][]byte
	add := func(m *mdns.Msg) {
		if b, err := m.Pack(); err == nil {
			out = append(out, b)
		}
	}
	a := new(mdns.Msg)
	a.SetQuestion("app.test.", mdns.TypeAAAA)
	a.Response = true
	a.Answer = []mdns.RR{
		&mdns.CNAME{Hdr: mdns.RR_Header{Name: "app.test.", Rrtype: mdns.TypeCNAME, Class: 1}, Target: "x.test."},
		&mdns.AAAA{Hdr: mdns.RR_Header{Name: "x.test.", Rrtype: mdns.TypeAAAA, Class: 1}, AAAA: []byte{0xfd, 15: 1}},
		&mdns.A{Hdr: mdns.RR_Header{Name: "x.test.", Rrtype: mdns.TypeA, Class: 1}, A: []byte{10, 0, 0, 1}},
	}
	add(a)
	s := new(mdns.Msg)
	s.SetQuestion("_http._tcp.app.test.", mdns.TypeSRV)
	s.Response = true
	s.Answer = []mdns.RR{
		&mdns.SRV{Hdr: mdns.RR_Header{Name: "_http._tcp.app.test.", Rrtype: mdns.TypeSRV, Class: 1}, Port: 80, Weight: 300, Target: "a.test."},
		&mdns.SRV{Hdr: mdns.RR_Header{Name: "_http._tcp.app.test.", Rrtype: mdns.TypeSRV, Class: 1}, Port: 81, Target: "b.test."},
	}
	s.Ns = []mdns.RR{&mdns.NS{Hdr: mdns.RR_Header{Name: "test.", Rrtype: mdns.TypeNS, Class: 1}, Ns: "ns.test."}}
	s.Extra = []mdns.RR{
		&mdns.A{Hdr: mdns.RR_Header{Name: "a.test.", Rrtype: mdns.TypeA, Class: 1}, A: []byte{10, 0, 0, 2}},
		&mdns.TXT{Hdr: mdns.RR_Header{Name: "a.test.", Rrtype: mdns.TypeTXT, Class: 1}, Txt: []string{"x"}},
	}
	s.SetEdns0(4096, false)
	add(s)
	nx := new(mdns.Msg)
	nx.SetQuestion("app.test.", mdns.TypeA)
	nx.Rcode = mdns.RcodeNameError
	add(nx)
	return out
}
