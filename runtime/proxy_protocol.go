package runtime

import (
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/proxyproto"
)

// ppSend is what a server's connections start with: a PROXY v1 or v2
// header (send-proxy, send-proxy-v2, proxy-v2-options).
type ppSend struct {
	v2   bool
	opts proxyproto.Options
}

// compileServerPP reads a server's PROXY protocol options; nil when its
// connections carry no header. The check gets its own header when asked
// (check-send-proxy), or when it goes where the traffic goes, as HAProxy
// decides for checks without "port" or "addr".
func compileServerPP(g *parser.Global, s *parser.Server, srv *backend.Server, fail func(parser.Pos, string, ...any)) *ppSend {
	st := &s.Settings
	for _, w := range st.ProxyV2Options {
		if _, err := proxyproto.ParseOptions(w); err != nil {
			fail(s.Pos, "%v", err)
		}
	}
	// Any flag sends a header, proxy-v2-options alone a v1 one.
	var pp *ppSend
	opts := ppOptions(st.PP)
	if st.PP != 0 {
		pp = &ppSend{v2: st.PP&parser.PPv2 != 0, opts: opts}
	}
	// Checks send the header on their default connections with
	// check-send-proxy (or send-proxy without a check port or address),
	// and on those of "connect send-proxy" rules; v2 follows the server.
	srv.Check.SendProxy = st.CheckSendProxy || pp != nil && st.Port == "" && st.Addr == ""
	v2 := pp != nil && pp.v2
	srv.Check.Preamble = func(local, remote netip.AddrPort) []byte {
		if !v2 {
			return proxyproto.AppendV1(nil, local, remote)
		}
		// A check has no client: LOCAL, unless pp2-never-send-local.
		return proxyproto.AppendV2(nil, &proxyproto.V2{Src: local, Dst: remote, Local: !g.PP2NeverSendLocal, Options: opts})
	}
	return pp
}

// ppOptions are the proxy-v2-options of a server's PROXY flags.
func ppOptions(pp parser.RingPP) proxyproto.Options {
	var o proxyproto.Options
	for _, m := range [...]struct {
		pp  parser.RingPP
		opt proxyproto.Options
	}{
		{parser.PPv2SSL, proxyproto.OptSSL}, {parser.PPv2SSLCN, proxyproto.OptCertCN},
		{parser.PPv2KeyAlg, proxyproto.OptCertKey}, {parser.PPv2SigAlg, proxyproto.OptCertSig},
		{parser.PPv2Cipher, proxyproto.OptSSLCipher}, {parser.PPv2Authority, proxyproto.OptAuthority},
		{parser.PPv2CRC32C, proxyproto.OptCRC32C}, {parser.PPv2UniqueID, proxyproto.OptUniqueID},
	} {
		if pp&m.pp != 0 {
			o |= m.opt
		}
	}
	return o
}

// ppState is what a session keeps of the PROXY header it received: the
// authority TLV, passed on to servers with proxy-v2-options authority.
type ppState struct {
	// tlv holds the TLVs, nil when the header carried none: most
	// connections never see one, and their sessions stay smaller.
	tlv *ppTLV
	// ns is the client connection's network namespace (proxy_netns): its
	// bind's, or the known one its PROXY header named; nil for none.
	ns *backend.NetNS
}

// ppTLV is the TLVs of a PROXY header that a session keeps.
type ppTLV struct {
	authority    [proxyproto.MaxAuthority]byte
	authorityLen int
	hasAuthority bool
	uniqueID     [proxyproto.MaxUniqueID]byte
	uniqueIDLen  int
	hasUniqueID  bool
}

// setNS takes the namespace a PROXY header names when it is one of the
// configuration's (netns_store_lookup); another name changes nothing.
func (p *ppState) setNS(h *proxyproto.Header, known map[string]*backend.NetNS) {
	if h.NetNS != nil {
		if ns := known[string(h.NetNS)]; ns != nil {
			p.ns = ns
		}
	}
}

// set keeps the TLVs of a PROXY header.
func (p *ppState) set(h *proxyproto.Header) {
	if h.Authority == nil && h.UniqueID == nil {
		p.tlv = nil
		return
	}
	t := new(ppTLV)
	t.hasAuthority = h.Authority != nil
	t.authorityLen = copy(t.authority[:], h.Authority)
	t.hasUniqueID = h.UniqueID != nil
	t.uniqueIDLen = copy(t.uniqueID[:], h.UniqueID)
	p.tlv = t
}

// perStream says the PROXY header carries the stream's unique id, which
// makes the connection the stream's own.
func (p *ppSend) perStream() bool { return p != nil && p.opts&proxyproto.OptUniqueID != 0 }

// sendProxyHeader writes the server's PROXY header first on a new server
// connection; on failure the connection is closed.
func (s *session) sendProxyHeader(be *Backend, srv *backend.Server, c netConn) error {
	pp := be.pp.get(srv)
	if pp == nil {
		return nil
	}
	var arr [128]byte
	var b []byte
	if pp.v2 {
		v := proxyproto.V2{Src: s.txn.Src, Dst: s.txn.Dst, Options: pp.opts}
		if t := s.pps.tlv; t != nil && t.hasAuthority {
			v.Authority = t.authority[:t.authorityLen]
		}
		if s.pps.ns != nil {
			// Any namespace of the client connection goes along.
			v.NetNS = []byte(s.pps.ns.Name)
		}
		if pp.opts&proxyproto.OptUniqueID != 0 {
			// Without unique-id-format the stream's id is empty.
			v.UniqueID = arr[:0:0]
			if id, ok := s.UniqueID(); ok {
				v.UniqueID = id
			}
		}
		b = proxyproto.AppendV2(arr[:0], &v)
	} else {
		b = proxyproto.AppendV1(arr[:0], s.txn.Src, s.txn.Dst)
	}
	if be.Server > 0 {
		// No timeout server means none at all.
		c.SetWriteDeadline(time.Now().Add(be.Server))
	}
	_, err := c.Write(b)
	c.SetWriteDeadline(time.Time{})
	if err != nil {
		c.Close()
	}
	return err
}

// acceptHeaders reads what the connection starts with, as HAProxy's
// handshake does for its bind ("accept-netscaler-cip", "accept-proxy")
// or its connection rules (expect-netscaler-cip, expect-proxy): a
// NetScaler Client IP header, then a PROXY header, each decided by one
// read of up to tune.bufsize once the client sends (conn_recv_netscaler_cip,
// conn_recv_proxy), within "timeout client" from the accept. The
// addresses they carry replace the connection's; the bytes after them
// stay in the client buffer. On failure the connection error is logged,
// as session_kill_embryonic logs it, and false is returned.
func (s *session) acceptHeaders(cip, pp bool) bool {
	accepted := time.Now()
	cl := &s.cl
	cl.r, cl.w = 0, 0
	// A timeout is reported as the PROXY header's while one is expected.
	empty, abort, timeout := proxyproto.ErrCIPEmpty, proxyproto.ErrCIPAbort, proxyproto.ErrCIPTimeout
	if pp {
		timeout = proxyproto.ErrTimeout
	}
	rc, err := cl.c.SyscallConn()
	if err == nil && s.fe.Client > 0 {
		cl.c.SetReadDeadline(accepted.Add(s.fe.Client))
		defer cl.c.SetReadDeadline(time.Time{})
	}
	fill := func() error {
		if err != nil {
			return err
		}
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, rerr = rawRead(int(fd), cl.buf[cl.w:min(len(cl.buf), s.fe.bufSize)])
			return rerr != unix.EAGAIN
		})
		switch {
		case os.IsTimeout(err):
			return timeout
		case err != nil || rerr != nil:
			return abort
		case n == 0:
			return empty
		}
		cl.w += n
		return nil
	}
	fail := func(err error) bool {
		msg, _ := err.(proxyproto.Error)
		if msg == "" {
			msg = abort
		}
		s.logConnError(accepted, string(msg))
		return false
	}
	if cip {
		if err := fill(); err != nil {
			return fail(err)
		}
		src, dst, n, err := proxyproto.ParseCIP(cl.buf[:cl.w], s.l.bind.CIPMagic)
		if err != nil {
			return fail(err)
		}
		cl.r = n
		s.txn.Src, s.txn.Dst = src, dst
	}
	if pp {
		empty, abort = proxyproto.ErrEmpty, proxyproto.ErrAbort
		if cl.r == cl.w {
			cl.r, cl.w = 0, 0
			if err := fill(); err != nil {
				return fail(err)
			}
		}
		h, n, err := proxyproto.Parse(cl.buf[cl.r:cl.w])
		if err != nil {
			return fail(err)
		}
		cl.r += n
		if h.Src.IsValid() && h.Dst.IsValid() {
			s.txn.Src, s.txn.Dst = h.Src, h.Dst
		}
		s.pps.set(&h)
		s.pps.setNS(&h, s.e.g.netns)
	}
	return true
}

// logConnError logs a connection whose PROXY or NetScaler header
// failed, as session_kill_embryonic does.
func (s *session) logConnError(accepted time.Time, msg string) {
	// The client is the one a NetScaler header gave, if any.
	s.txn.ConnErr = acl.ConnErrCode(msg)
	em := embryonic{l: s.l, accepted: accepted, txn: &s.txn}
	s.logBuf = em.log(s.e, s.logBuf[:0])
	s.txn.ConnErr = 0
}

// nameListeners gives each listener of a frontend its bind's "name" and
// its id: the bind's "id", else the first free number from the
// listener's position (from 1), as check_config_validity numbers them. The PROXY header of a TLS or HTTP/2
// bind would have to be read before the handshake: refused.
func nameListeners(p *parser.Proxy, fe *Frontend, fail func(parser.Pos, string, ...any)) {
	used := map[int]bool{}
	i := 0
	for _, b := range p.Binds {
		name, id := "", 0
		for j := 0; j+1 < len(b.Options); j++ {
			switch b.Options[j] {
			case "name":
				name = b.Options[j+1]
			case "id":
				id = parser.Atol(b.Options[j+1])
			}
		}
		for ; i < len(fe.Binds) && fe.Binds[i].Pos == b.Pos; i++ {
			fe.Binds[i].Name, fe.Binds[i].ID = name, id
			if id > 0 {
				used[id] = true
				id = 0
			}
		}
	}
	// The candidate advances with every listener, given an id or not.
	next := 1
	for i := range fe.Binds {
		if fe.Binds[i].ID > 0 {
			next++
			continue
		}
		for used[next] {
			next++
		}
		fe.Binds[i].ID = next
		used[next] = true
		next++
	}
}
