package ssl

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"hash"
)

// The Finished messages of a handshake, for ssl_fc_unique_id and
// ssl_bc_unique_id. HAProxy gives OpenSSL's SSL_get_peer_finished, or
// SSL_get_finished once the session was resumed: the verify data of the
// peer's Finished message, of this side's own after a resumption. Go
// keeps only the first Finished of a handshake before TLS 1.3, which is
// the one a bind wants; the others are taken from the handshake's
// records: for TLS 1.2 computed from the plaintext messages and the
// master secret (RFC 5246, 7.4.9), for TLS 1.3 read from the record that
// carries the message, opened with the handshake traffic secret of its
// sender.

// maxRecordLog bounds what a recordLog keeps of a handshake (certificate
// chains included); a longer handshake has no unique id.
const maxRecordLog = 1 << 18

// wireRecord is a TLS record as it went on the wire.
type wireRecord struct {
	mine bool // written by this side
	hdr  [5]byte
	body []byte
}

// recordLog keeps the records both sides send until the handshake ends,
// in the order this side wrote and read them.
type recordLog struct {
	recs []wireRecord
	part [2]partial // the record being read in each direction
	size int
	over bool
}

// partial is a record whose bytes are still arriving.
type partial struct {
	hdr  [5]byte
	n    int // header bytes read
	body []byte
	left int // body bytes still to come
}

func (l *recordLog) feed(p []byte, mine bool) {
	d := 0
	if mine {
		d = 1
	}
	r := &l.part[d]
	for len(p) > 0 && !l.over {
		if r.n < 5 {
			k := copy(r.hdr[r.n:], p)
			r.n += k
			p = p[k:]
			if r.n < 5 {
				return
			}
			r.left = int(binary.BigEndian.Uint16(r.hdr[3:]))
			if l.size += 5 + r.left; l.size > maxRecordLog {
				l.over = true
				return
			}
			r.body = make([]byte, 0, r.left)
		}
		k := min(r.left, len(p))
		r.body = append(r.body, p[:k]...)
		r.left -= k
		p = p[k:]
		if r.left == 0 {
			l.recs = append(l.recs, wireRecord{mine: mine, hdr: r.hdr, body: r.body})
			*r = partial{}
		}
	}
}

// uniqueID is the verify data HAProxy's ssl_fc_unique_id gives for the
// handshake cs describes, nil when it cannot be read.
func (t *KeyTap) uniqueID(cs *tls.ConnectionState) []byte {
	// The peer's Finished, this side's own after a resumption.
	mine := cs.DidResume
	byClient := t.server != mine
	switch {
	case t.fin.over:
		return nil
	case cs.Version == tls.VersionTLS13:
		secret := t.serverHS
		if byClient {
			secret = t.clientHS
		}
		return finished13(t.fin.recs, mine, cs.CipherSuite, secret)
	case t.server && cs.TLSUnique != nil:
		// The first Finished of the handshake (RFC 5929's tls-unique),
		// which Go keeps: the client's, the server's after a
		// resumption (but not without the extended master secret).
		return cs.TLSUnique
	case cs.Version == tls.VersionTLS12:
		fin := finished12(t.fin.recs, t.server, cs.CipherSuite, t.keys.SessionKey)
		if byClient {
			return fin[0]
		}
		return fin[1]
	}
	return nil
}

// finished13 is the verify data of the Finished message in the records
// one side sent (mine) under its handshake traffic secret.
func finished13(recs []wireRecord, mine bool, suite uint16, secret []byte) []byte {
	aead, iv := trafficAEAD(suite, secret)
	if aead == nil {
		return nil
	}
	var seq uint64
	var msgs []byte
	nonce := make([]byte, len(iv))
	for _, r := range recs {
		if r.mine != mine || r.hdr[0] != 23 {
			continue
		}
		plain, err := aead.Open(nil, recordNonce(nonce, iv, seq), r.body, r.hdr[:])
		if err != nil {
			if seq == 0 {
				// Early data a server skips, under another key.
				continue
			}
			return nil
		}
		seq++
		// The inner content type follows the content, then padding.
		i := len(plain) - 1
		for i >= 0 && plain[i] == 0 {
			i--
		}
		if i < 0 || plain[i] != 22 {
			return nil
		}
		msgs = append(msgs, plain[:i]...)
		for len(msgs) >= 4 {
			n := int(msgs[1])<<16 | int(msgs[2])<<8 | int(msgs[3])
			if len(msgs) < 4+n {
				break
			}
			if msgs[0] == 20 {
				return msgs[4 : 4+n]
			}
			msgs = msgs[4+n:]
		}
	}
	return nil
}

// recordNonce is the nonce of record number seq under iv (RFC 8446,
// 5.3), written in dst, which has iv's length.
func recordNonce(dst, iv []byte, seq uint64) []byte {
	copy(dst, iv)
	for i := range 8 {
		dst[len(dst)-1-i] ^= byte(seq >> (8 * i))
	}
	return dst
}

// finished12 computes the verify data of the client's and the server's
// Finished messages of a TLS 1.2 handshake from its plaintext messages,
// in the order they went, and its master secret: each side's Finished
// follows its ChangeCipherSpec and covers what came before it.
func finished12(recs []wireRecord, server bool, suite uint16, master []byte) (fin [2][]byte) {
	if len(master) == 0 {
		return fin
	}
	var transcript []byte
	var ccs [2]bool // by sender: 0 the client, 1 the server
	for _, r := range recs {
		by := 0
		if r.mine == server {
			by = 1
		}
		switch {
		case r.hdr[0] == 20 && !ccs[by]:
			ccs[by] = true
			label := "client finished"
			if by == 1 {
				label = "server finished"
			}
			fin[by] = prf12(suite, master, label, transcript)
			transcript = append(transcript, 20, 0, 0, byte(len(fin[by])))
			transcript = append(transcript, fin[by]...)
		case r.hdr[0] == 22 && !ccs[by]:
			transcript = append(transcript, r.body...)
		}
	}
	return fin
}

// prf12 is the 12 bytes of verify data TLS 1.2's PRF for suite derives
// from master, label and the hash of transcript.
func prf12(suite uint16, master []byte, label string, transcript []byte) []byte {
	h := sha256.New
	switch suite {
	case tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		h = sha512.New384
	}
	d := h()
	d.Write(transcript)
	out := make([]byte, 12)
	pHash(out, h, master, append([]byte(label), d.Sum(nil)...))
	return out
}

// pHash fills out with P_hash(secret, seed) (RFC 5246, 5).
func pHash(out []byte, h func() hash.Hash, secret, seed []byte) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = out[copy(out, mac.Sum(nil)):]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
}
