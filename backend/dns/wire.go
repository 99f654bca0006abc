package dns

import (
	"encoding/binary"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// Record types HAProxy's resolver understands (resolvers-t.h DNS_RTYPE_*).
const (
	typeA     = mdns.TypeA
	typeCNAME = mdns.TypeCNAME
	typeAAAA  = mdns.TypeAAAA
	typeSRV   = mdns.TypeSRV
)

const (
	headerSize    = 12
	minRecordSize = 1 + 1 + 2 + 2 // one char label, root, type, class
	flagTruncated = 0x0200
	rcodeMask     = 0x000f
)

// respCode is the outcome of validating one response (RSLV_RESP_*).
type respCode int

const (
	respValid respCode = iota
	respInvalid
	respError
	respNXDomain
	respRefused
	respAncountZero
	respWrongName
	respCNAMEError
	respTimeout
	respTruncated
	respNoExpectedRecord
	respQueryCountError
	respInternal
)

// buildQuery forges the query HAProxy sends (resolv_build_query): RD set,
// one question, and always an EDNS0 OPT record announcing the accepted
// payload size.
func buildQuery(id uint16, qtype uint16, fqdn string, payload int) ([]byte, error) {
	m := new(mdns.Msg)
	m.Id = id
	m.RecursionDesired = true
	m.Question = []mdns.Question{{Name: fqdn, Qtype: qtype, Qclass: mdns.ClassINET}}
	m.SetEdns0(uint16(payload), false)
	return m.Pack()
}

// record is one answer or additional record kept from a response.
type record struct {
	typ    uint16
	name   string // owner name, as received
	ttl    uint32
	prio   uint16
	weight uint16
	port   uint16
	addr   netip.Addr // A and AAAA
	target string     // CNAME and SRV, as received
	key    uint32     // XXH32 key ordering the answer tree
}

// reply is a response that passed validation.
type reply struct {
	qtype      uint16
	answers    []record
	additional []record // A and AAAA from the additional section of SRV replies
}

// parseResponse validates a response to a query for fqdn (lower case, with
// the trailing dot) the way resolv_validate_dns_response does, in the same
// order, so that every malformed message maps to the same status.
func parseResponse(buf []byte, fqdn string, maxAnswers int) (*reply, respCode) {
	end := len(buf)
	if 2 >= end || 4 >= end {
		return nil, respInvalid
	}
	flags := int(binary.BigEndian.Uint16(buf[2:]))
	switch flags & rcodeMask {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		return nil, respNXDomain
	case mdns.RcodeRefused:
		return nil, respRefused
	default:
		return nil, respError
	}
	if 6 >= end {
		return nil, respInvalid
	}
	if binary.BigEndian.Uint16(buf[4:]) != 1 {
		return nil, respQueryCountError
	}
	if 8 >= end {
		return nil, respInvalid
	}
	ancount := int(binary.BigEndian.Uint16(buf[6:]))
	if ancount == 0 {
		return nil, respAncountZero
	}
	if ancount > maxAnswers || 10 >= end || 12 >= end {
		return nil, respInvalid
	}
	nscount := int(binary.BigEndian.Uint16(buf[8:]))
	arcount := int(binary.BigEndian.Uint16(buf[10:]))

	qname, off, err := mdns.UnpackDomainName(buf, headerSize)
	if err != nil {
		return nil, respInvalid
	}
	if qname != fqdn {
		return nil, respWrongName
	}
	if off+2 >= end {
		return nil, respInvalid
	}
	r := &reply{qtype: binary.BigEndian.Uint16(buf[off:])}
	off += 2
	if off+2 >= end {
		return nil, respInvalid
	}
	off += 2
	// A truncated SRV reply can still be used, other types cannot.
	if r.qtype != typeSRV && flags&flagTruncated != 0 {
		return nil, respTruncated
	}

	prev := qname
	for i := 0; i < ancount; i++ {
		if off >= end {
			return nil, respInvalid
		}
		name, n, err := mdns.UnpackDomainName(buf, off)
		if err != nil {
			return nil, respInvalid
		}
		// Each record must be owned by the queried name or the last CNAME target.
		if r.qtype != typeSRV && !strings.EqualFold(prev, name) {
			if i == 0 {
				return nil, respInvalid
			}
			return nil, respCNAMEError
		}
		var rec record
		var data []byte
		var ok bool
		if rec, off, data, ok = readRecord(buf, name, n); !ok {
			return nil, respInvalid
		}
		rdlen := len(data)
		switch rec.typ {
		case typeCNAME:
			if i+1 == ancount {
				return nil, respCNAMEError
			}
			t, _, err := mdns.UnpackDomainName(buf, off)
			if err != nil {
				return nil, respInvalid
			}
			rec.target = t
			rec.key = xxh32(labels(t), uint32(rec.typ))
			prev = t
		case typeSRV:
			if rdlen <= 6 {
				return nil, respInvalid
			}
			rec.prio = binary.BigEndian.Uint16(data)
			rec.weight = binary.BigEndian.Uint16(data[2:])
			rec.port = binary.BigEndian.Uint16(data[4:])
			t, n, err := mdns.UnpackDomainName(buf, off+6)
			if err != nil {
				return nil, respInvalid
			}
			rec.target = t
			rec.key = xxh32(labels(t), uint32(rec.typ))
			// HAProxy moves past the target name, not past rdlen.
			off = n - rdlen
		}
		off += rdlen
		r.answers = append(r.answers, rec)
	}
	if r.qtype != typeSRV {
		return r, respValid
	}

	// Authority records are skipped; additional A/AAAA records feed SRV targets.
	for i := 0; i < nscount; i++ {
		_, n, err := mdns.UnpackDomainName(buf, off)
		if err != nil {
			continue
		}
		if n+10 >= end {
			return nil, respInvalid
		}
		l := int(binary.BigEndian.Uint16(buf[n+8:]))
		if n+10+l >= end {
			return nil, respInvalid
		}
		off = n + 10 + l
	}
	for i := 0; i < arcount; i++ {
		if off >= end {
			return nil, respInvalid
		}
		name, n, err := mdns.UnpackDomainName(buf, off)
		if err != nil {
			continue
		}
		var rec record
		var data []byte
		var ok bool
		if rec, off, data, ok = readRecord(buf, name, n); !ok {
			return nil, respInvalid
		}
		switch rec.typ {
		case typeA, typeAAAA:
			off += len(data)
			r.additional = append(r.additional, rec)
		default:
			// HAProxy does not move past an unknown additional record, so
			// the next one is read from its data; keep that behaviour.
		}
	}
	return r, respValid
}

// readRecord reads type, class, TTL and RDLENGTH at off and decodes A and
// AAAA data. It returns the record, the offset of its data and the data;
// ok is false when the message is short or an address has a wrong size.
func readRecord(buf []byte, name string, off int) (rec record, dataOff int, data []byte, ok bool) {
	rec.name = name
	if off >= len(buf) || off+10 > len(buf) {
		return rec, 0, nil, false
	}
	rec.typ = binary.BigEndian.Uint16(buf[off:])
	rec.ttl = binary.BigEndian.Uint32(buf[off+4:])
	rdlen := int(binary.BigEndian.Uint16(buf[off+8:]))
	off += 10
	if off+rdlen > len(buf) {
		return rec, 0, nil, false
	}
	data = buf[off : off+rdlen]
	if (rec.typ == typeA || rec.typ == typeAAAA) && !decodeAddr(&rec, data) {
		return rec, 0, nil, false
	}
	return rec, off, data, true
}

// decodeAddr fills rec from A or AAAA data and sets its tree key.
func decodeAddr(rec *record, data []byte) bool {
	switch {
	case rec.typ == typeA && len(data) == 4:
		rec.addr = netip.AddrFrom4([4]byte(data))
	case rec.typ == typeAAAA && len(data) == 16:
		rec.addr = netip.AddrFrom16([16]byte(data))
	default:
		return false
	}
	rec.key = xxh32(data, uint32(rec.typ))
	return true
}

// labels returns the wire form of a name without the root label, which is
// what HAProxy hashes and compares (its "dn label" format).
func labels(name string) []byte {
	buf := make([]byte, 256)
	n, err := mdns.PackDomainName(name, buf, 0, nil, false)
	if err != nil || n == 0 {
		return nil
	}
	return buf[:n-1]
}
