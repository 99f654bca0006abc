package ssl

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"net"

	"github.com/gohap/gohap/acl"
)

// KeyTap watches a connection's TLS handshake for what a key log needs
// (acl.TLSKeys): the randoms of both hellos, read from the records this
// side writes and the peer's it reads, and the secrets crypto/tls gives
// its key log writer. The handshake's goroutine uses it; Keys ends the
// watch.
type KeyTap struct {
	net.Conn
	mine, peer helloScan
	keys       acl.TLSKeys
	// traffic keeps the TLS 1.3 traffic secrets (tune.ssl.keylog on).
	traffic bool
	server  bool
	done    bool
	// fin keeps the handshake's records for its Finished messages
	// (ssl_fc_unique_id), nil when they are not asked for; clientHS and
	// serverHS are then the TLS 1.3 handshake traffic secrets.
	fin                *recordLog
	clientHS, serverHS []byte
	// The secrets of the sessions the handshake resumed (resumed: the
	// ticket a bind took, offered: the session a server connection
	// offered) and of the last ticket a bind issued.
	resumed, offered, issued []byte
}

// NewKeyTap watches c, the server side of the handshake when server is
// set; traffic keeps the TLS 1.3 traffic secrets, finished the records
// the Finished messages are read from.
func NewKeyTap(c net.Conn, server, traffic, finished bool) *KeyTap {
	t := &KeyTap{Conn: c, traffic: traffic, server: server}
	t.mine.want, t.peer.want = helloClient, helloServer
	if server {
		t.mine.want, t.peer.want = helloServer, helloClient
	}
	if finished {
		t.fin = &recordLog{}
	}
	return t
}

func (t *KeyTap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if !t.done && n > 0 {
		t.peer.feed(p[:n])
		if t.fin != nil {
			t.fin.feed(p[:n], false)
		}
	}
	return n, err
}

func (t *KeyTap) Write(p []byte) (int, error) {
	if !t.done {
		t.mine.feed(p)
		if t.fin != nil {
			t.fin.feed(p, true)
		}
	}
	return t.Conn.Write(p)
}

// keyLog is the writer a handshake's key log goes to: one line per
// secret, "LABEL <client random> <secret>" in hex (NSS's format).
type keyLog KeyTap

// keyLogLine splits a key log line, "LABEL <client random> <secret>".
func keyLogLine(line []byte) (label string, secret []byte, ok bool) {
	f := bytes.Fields(line)
	if len(f) != 3 {
		return "", nil, false
	}
	return string(f[0]), f[2], true
}

func (k *keyLog) Write(line []byte) (int, error) {
	t := (*KeyTap)(k)
	label, secret, ok := keyLogLine(line)
	if t.done || !ok {
		return len(line), nil
	}
	var dst *[]byte
	switch label {
	case "CLIENT_RANDOM":
		t.keys.SessionKey, _ = hex.AppendDecode(nil, secret)
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		dst = &t.keys.ClientHS
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		dst = &t.keys.ServerHS
	case "CLIENT_TRAFFIC_SECRET_0":
		dst = &t.keys.Client0
	case "SERVER_TRAFFIC_SECRET_0":
		dst = &t.keys.Server0
	}
	if dst != nil && t.traffic {
		*dst = bytes.Clone(secret)
	}
	if t.fin != nil {
		switch label {
		case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
			t.clientHS, _ = hex.AppendDecode(nil, secret)
		case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
			t.serverHS, _ = hex.AppendDecode(nil, secret)
		}
	}
	return len(line), nil
}

// Config is cfg with its key log going to t, and the sessions it takes
// and issues seen by t: Go writes no key log line for a resumed session.
func (t *KeyTap) Config(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.KeyLogWriter = (*keyLog)(t)
	if t.server {
		wrap, unwrap := c.WrapSession, c.UnwrapSession
		if wrap == nil {
			wrap = c.EncryptTicket
		}
		if unwrap == nil {
			unwrap = c.DecryptTicket
		}
		c.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
			if !t.done {
				t.issued = sessionSecret(ss)
			}
			return wrap(cs, ss)
		}
		c.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
			ss, err := unwrap(identity, cs)
			if ss != nil && err == nil && !t.done {
				t.resumed = sessionSecret(ss)
			}
			return ss, err
		}
	} else if c.ClientSessionCache != nil {
		c.ClientSessionCache = &tapCache{ClientSessionCache: c.ClientSessionCache, t: t}
	}
	return c
}

// tapCache is a server connection's session cache, which notes the
// session the handshake offers.
type tapCache struct {
	tls.ClientSessionCache
	t *KeyTap
}

func (c *tapCache) Get(key string) (*tls.ClientSessionState, bool) {
	s, ok := c.ClientSessionCache.Get(key)
	if ok && s != nil && !c.t.done {
		if _, ss, err := s.ResumptionState(); err == nil && ss != nil {
			c.t.offered = sessionSecret(ss)
		}
	}
	return s, ok
}

// sessionSecret is the secret of a session: the master secret before
// TLS 1.3, the ticket's PSK in TLS 1.3. Go keeps it unexported; its
// encoding (crypto/tls's SessionState) starts with the version, the
// type (1 server, 2 client), the suite and the creation time, then the
// secret with a length byte, and is only extended at its end.
func sessionSecret(ss *tls.SessionState) []byte {
	b, err := ss.Bytes()
	if err != nil || len(b) < 14 || b[2] != 1 && b[2] != 2 {
		return nil
	}
	n := int(b[13])
	if n == 0 || len(b) < 14+n {
		return nil
	}
	// A copy: the encoding holds the certificates too.
	return bytes.Clone(b[14 : 14+n])
}

// Keys ends the watch and returns what it found; cs is the state of the
// handshake once it succeeded, nil after a failure.
func (t *KeyTap) Keys(cs *tls.ConnectionState) *acl.TLSKeys {
	t.done = true
	k := t.keys
	k.ClientRandom, k.ServerRandom = t.mine.random(), t.peer.random()
	if t.server {
		k.ClientRandom, k.ServerRandom = k.ServerRandom, k.ClientRandom
	}
	if cs != nil {
		switch {
		case cs.Version == tls.VersionTLS13:
			// The PSK of the last ticket issued, which OpenSSL keeps
			// as the session's master key.
			k.SessionKey = t.issued
		case !cs.DidResume:
		case t.server:
			k.SessionKey = t.resumed
		default:
			k.SessionKey = t.offered
		}
		// uniqueID reads the master secret of a resumed session too.
		t.keys.SessionKey = k.SessionKey
		if t.fin != nil {
			k.UniqueID = t.uniqueID(cs)
		}
	}
	t.fin = nil
	return &k
}

// The handshake message types of the hellos.
const (
	helloClient = 1
	helloServer = 2
)

// hrrRandom is the random of a HelloRetryRequest (RFC 8446, 4.1.3),
// which is not the ServerHello the keys derive from.
var hrrRandom = [32]byte{0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c}

// helloScan walks a stream of TLS records for the random of the last
// hello of type want that begins a plaintext handshake record (the one
// after a HelloRetryRequest). It keeps only the first bytes of each
// record.
type helloScan struct {
	want  byte
	head  [43]byte // record header, message header, version, random
	n     int      // bytes of head filled for the current record
	skip  int      // bytes left of the current record after head
	seen  int      // records walked
	rnd   [32]byte
	found bool
}

func (s *helloScan) feed(p []byte) {
	for len(p) > 0 && s.seen < 16 {
		if s.skip > 0 {
			k := min(s.skip, len(p))
			s.skip -= k
			p = p[k:]
			continue
		}
		k := copy(s.head[s.n:], p)
		p = p[k:]
		s.n += k
		if s.n < 5 {
			return
		}
		l := int(s.head[3])<<8 | int(s.head[4])
		need := min(5+l, len(s.head))
		if s.n < need {
			if len(p) == 0 {
				return
			}
			continue
		}
		// The record's start is in head: look at it, skip its rest.
		if s.head[0] == 22 && need == len(s.head) && s.head[5] == s.want {
			r := [32]byte(s.head[11:43])
			if s.want != helloServer || r != hrrRandom {
				s.rnd, s.found = r, true
			}
		}
		s.seen++
		s.skip = 5 + l - s.n
		if s.skip < 0 {
			// head took bytes of the next record: give them back.
			p = append(append([]byte(nil), s.head[5+l:s.n]...), p...)
			s.skip = 0
		}
		s.n = 0
	}
}

func (s *helloScan) random() []byte {
	if !s.found {
		return nil
	}
	return append([]byte(nil), s.rnd[:]...)
}
