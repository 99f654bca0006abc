package runtime

import (
	"strconv"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/cache"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// compileCaches makes the cache sections' storage and gives every
// cache-use and cache-store rule its cache.
func compileCaches(cfg *parser.Config, g *Graph, fail func(parser.Pos, string, ...any)) {
	g.caches = map[string]*cache.Cache{}
	for _, k := range cfg.Caches {
		g.caches[k.Name] = cache.New(cache.Config{Name: k.Name, Blocks: k.Blocks, MaxAge: k.MaxAge,
			MaxObjectSize: k.MaxObjectSize, ProcessVary: k.ProcessVary, MaxSecondary: k.MaxSecondaryEntries})
		g.cacheOrder = append(g.cacheOrder, g.caches[k.Name])
	}
	bind := func(rules []httpRule, name string) {
		for i := range rules {
			r := &rules[i]
			if r.act != "cache-use" && r.act != "cache-store" {
				continue
			}
			if r.cache = g.caches[r.cacheName]; r.cache == nil {
				fail(parser.Pos{}, "proxy '%s': unable to find the cache '%s'.", name, r.cacheName)
			}
		}
	}
	for _, fe := range g.Frontends {
		bind(fe.reqRules, fe.Name)
		bind(fe.rspRules, fe.Name)
	}
	for _, be := range g.Backends {
		bind(be.reqRules, be.Name)
		bind(be.rspRules, be.Name)
	}
}

// cacheState is the caching of the transaction in progress.
type cacheState struct {
	// reqs is the session's request count when txn was started: state
	// of an earlier transaction is not looked at.
	reqs int
	txn  cache.Txn
	// hit is the object that answers the request, from hitCache;
	// notModified asks for a 304 instead.
	hit         *cache.Entry
	hitCache    *cache.Cache
	notModified bool
	// served says the response being processed is the hit.
	served bool
	// w stores the response into a cache as it goes to the client.
	w *cache.Writer
	// view reads a head's headers; key and head are scratch buffers.
	view  hdrView
	key   []byte
	head  []byte
	rhead []byte
	iov   [4][]byte
	size  [20]byte
}

// frame appends a chunked body made of data to iov: one chunk, then the
// last chunk.
func (st *cacheState) frame(iov [][]byte, data []byte) [][]byte {
	if len(data) == 0 {
		return append(iov, lastChunkCRLF)
	}
	b := strconv.AppendUint(st.size[:0], uint64(len(data)), 16)
	for i, c := range b {
		if c >= 'a' {
			b[i] = c - 'a' + 'A'
		}
	}
	return append(iov, append(b, '\r', '\n'), data, crlfLastChunk)
}

var (
	lastChunkCRLF = []byte("0\r\n\r\n")
	crlfLastChunk = []byte("\r\n0\r\n\r\n")
)

// compressStored compresses a stored body for a hit the compression
// applies to, whole.
func (s *session) compressStored(zb, body []byte) ([]byte, error) {
	g := s.e.g.comp
	enc, err := g.pool.Get(s.zs.algo)
	if err != nil {
		return zb, err
	}
	defer g.pool.Put(enc)
	if zb, err = enc.Write(zb, body); err != nil {
		return zb, err
	}
	return enc.Close(zb)
}

// hdrView shows a parsed head's headers to the cache package.
type hdrView struct {
	buf []byte
	msg *h1.Msg
}

func (v *hdrView) Len() int { return len(v.msg.Headers) }

func (v *hdrView) Header(i int) ([]byte, []byte) {
	h := v.msg.Headers[i]
	return h.Name.Of(v.buf), h.Value.Of(v.buf)
}

// cacheTxn returns the transaction's caching state, started on first
// use.
func (s *session) cacheTxn() *cacheState {
	s.used |= scratchCache
	st := &s.cch
	if st.reqs != s.reqs {
		st.reqs = s.reqs
		st.hit, st.hitCache, st.notModified, st.served = nil, nil, false, false
		st.txn.Begin(s.req.Method.Of(s.txn.Buf))
	}
	return st
}

// cacheRule runs cache-use on the request or cache-store on the
// response; it returns the head, which cache-store may edit.
func (s *session) cacheRule(r *httpRule, head []byte, msg *h1.Msg) []byte {
	if r.cache == nil {
		return head
	}
	st := s.cacheTxn()
	now := time.Now().Unix()
	st.view = hdrView{buf: head, msg: msg}
	if r.act == "cache-store" {
		fromBackend := false
		if be := s.be; be != nil && be != s.fe.own && s.fe.comp != nil {
			for i := range be.rspRules {
				fromBackend = fromBackend || &be.rspRules[i] == r
			}
		}
		return s.cacheStore(st, r.cache, head, msg, fromBackend, now)
	}
	t := &st.txn
	req := &s.req
	if m := req.Method.Of(head); req.Minor != 1 || string(m) != "GET" && string(m) != "HEAD" {
		t.Flags |= cache.FlagIgnore
	}
	t.CheckRequest(&st.view)
	uri := req.URI.Of(head)
	var ok bool
	if st.key, ok = t.Key(st.key, uri, len(uri) > 0 && uri[0] != '/' && uri[0] != '*', &st.view); !ok {
		return head
	}
	if t.Flags&cache.FlagIgnore != 0 {
		return head
	}
	if e := r.cache.Lookup(t, &st.view, now); e != nil {
		st.hit, st.hitCache = e, r.cache
		st.notModified = cache.NotModified(&st.view, e)
	}
	return head
}

// cacheStore is cache-store: the response starts filling an object
// when it may be stored. As HAProxy orders its filters, a backend's
// cache stores nothing that the frontend's compression compresses;
// otherwise the cache comes first and stores the body uncompressed.
func (s *session) cacheStore(st *cacheState, c *cache.Cache, head []byte, rsp *h1.Msg, fromBackend bool, now int64) []byte {
	if st.w != nil {
		return head
	}
	line := head
	if i := h1.HeadEnd(head, 0); i > 0 {
		line = head[:i]
	}
	for i := 0; i+1 < len(line); i++ {
		if line[i] == '\r' && line[i+1] == '\n' {
			line = line[:i]
			break
		}
	}
	r := cache.Response{Method: s.req.Method.Of(s.txn.Buf), HTTP11: s.req.Minor == 1, Status: rsp.Status,
		StatusLine: line, Headers: &st.view, Length: -1, Chunked: rsp.Body == h1.BodyChunked,
		FromCache: st.served, Disabled: s.zs.on && fromBackend}
	switch rsp.Body {
	case h1.BodyLength:
		r.Length = rsp.Length
	case h1.BodyNone:
		r.Length = 0
	}
	st.w = c.Store(&st.txn, &r, now)
	if r.DropAge {
		head = st.dropAge(head, rsp)
		s.txn.RspBuf = head
	}
	switch {
	case st.w == nil:
	case s.zs.on:
		// The body is kept before it is compressed (relayCompressed).
		st.w.Feed(nil, false)
	default:
		s.cl.tap = st.w
	}
	return head
}

// dropAge removes the first Age header from a response head, into the
// state's own buffer, and parses the result into rsp.
func (st *cacheState) dropAge(head []byte, rsp *h1.Msg) []byte {
	for _, h := range rsp.Headers {
		if n := h.Name.Of(head); len(n) != 3 || !h1.EqualFold(n, "age") {
			continue
		}
		end := int(h.Value.End)
		for end < len(head) && head[end] != '\n' {
			end++
		}
		out := append(st.rhead[:0], head[:h.Name.Off]...)
		out = append(out, head[min(end+1, len(head)):]...)
		if h1.ParseResponse(out, rsp, maxHdr) != nil {
			h1.ParseResponse(head, rsp, maxHdr)
			return head
		}
		st.rhead = out
		return out
	}
	return head
}

// cacheHitFound says a cache found the object that answers the
// transaction's request.
func (s *session) cacheHitFound() bool {
	return s.used&scratchCache != 0 && s.cch.hit != nil && s.cch.reqs == s.reqs
}

// cacheEnd closes the transaction's caching: an object whose body did
// not reach the client whole is dropped.
func (s *session) cacheEnd() {
	if s.used&scratchCache == 0 {
		return
	}
	st := &s.cch
	if st.w != nil {
		st.w.Close()
		st.w = nil
		s.cl.tap = nil
	}
	st.hit, st.hitCache, st.served = nil, nil, false
}

// CacheHit is res.cache_hit and res.cache_name (acl.CacheEnv).
func (s *session) CacheHit() (string, bool) {
	st := &s.cch
	if s.used&scratchCache == 0 || st.reqs != s.reqs || !st.served {
		return "", false
	}
	return st.hitCache.Name(), true
}

// noBackend stands for the backend of a hit the frontend's rules found:
// no backend is chosen then, and the frontend's rules run alone.
var noBackend = &Backend{}

// serveHit answers the request from the cache, as HAProxy's cache
// applet does: the stored head with an Age header (or a 304 made of
// it), then the response rules of the backend (none when be is nil: the
// frontend found the hit) and the frontend, the http-after-response
// rules, and the stored body. It reports whether the connection goes on.
func (s *session) serveHit(be *Backend) bool {
	st := &s.cch
	e := st.hit
	st.served = true
	// Logged as HAProxy logs its applets' answers: processed locally
	// (LR), queue, connection and response times of zero.
	s.logApplet = "<CACHE>"
	s.txFlags = logging.SFErrLocal | logging.SFFinstR
	if s.track {
		now := time.Now()
		s.lt.queue, s.lt.connect, s.lt.rsp = now, now, now
	}
	if be != nil {
		s.assignBe(be)
	} else {
		be = noBackend
	}
	s.ck = nil
	s.compRequest(s.txn.Buf, be)
	h := st.head[:0]
	stored := e.Head
	if st.notModified {
		h = append(h, "HTTP/1.1 304 Not Modified\r\n"...)
		for j := 0; j+1 < len(stored); j++ {
			if stored[j] == '\r' && stored[j+1] == '\n' {
				stored = stored[j+2:]
				break
			}
		}
	}
	h = append(h, stored...)
	h = append(h, "age: "...)
	h = strconv.AppendInt(h, e.Age(time.Now().Unix()), 10)
	h = append(h, "\r\n\r\n"...)
	st.head = h
	rsp := &s.rsp
	if h1.ParseResponse(h, rsp, s.fe.maxHdr) != nil {
		return s.errorReply(500, true)
	}
	rhead := h
	s.compResponse(rhead)
	s.txn.RspBuf, s.txn.Rsp = rhead, rsp
	for i, rules := range [2][]httpRule{be.rspRules, s.fe.rspRules} {
		if len(rules) == 0 || i == 1 && be == s.fe.own {
			continue
		}
		nh, res, keep := s.runRules(rules, rhead, false, rsp)
		s.noteLastRule(res)
		switch res {
		case ruleAnswered:
			return keep
		case ruleBad:
			return s.errorReply(502, true)
		}
		rhead = nh
	}
	rhead = s.applyAfter(rhead, rsp)
	req := &s.req
	keep := s.clientKeepAlive() && s.fe.ConnMode != modeClose && !(req.HasTE && req.HasCL) &&
		s.drainRequestBody() && !s.e.stopping.Load()
	out := s.buildResponse(rhead, !keep, false)
	s.out = out
	if s.track {
		s.rspWire, s.rspHTX = len(out), htxHeadSize(rhead, rsp, false)
	}
	iov := st.iov[:1]
	iov[0] = s.fe.caseCli.adjusted(out)
	var zp *[]byte
	switch {
	case st.notModified || string(req.Method.Of(s.txn.Buf)) == "HEAD":
	case s.zs.on:
		zp = s.fe.pool.get()
		zb, err := s.compressStored((*zp)[:0], e.Body)
		*zp = zb[:cap(zb)]
		if err != nil {
			s.fe.pool.put(zp)
			return false
		}
		iov = st.frame(iov, zb)
	case e.Chunked:
		iov = st.frame(iov, e.Body)
	default:
		iov = append(iov, e.Body)
	}
	err := s.cl.sendv(iov)
	clear(st.iov[:])
	if zp != nil {
		s.fe.pool.put(zp)
	}
	if err != nil {
		return false
	}
	return keep
}

// drainRequestBody reads and drops the request body of a hit, as
// HAProxy's cache applet eats the request, so that the connection can
// carry the next one; it reports whether the body is gone.
func (s *session) drainRequestBody() bool {
	req, cl := &s.req, &s.cl
	if s.bodyDone || req.Body == h1.BodyNone {
		return true
	}
	if req.Expect100 {
		// The client waits for a 100 that does not come.
		return false
	}
	switch req.Body {
	case h1.BodyLength:
		for left := req.Length; ; {
			n := int(min(int64(cl.w-cl.r), left))
			cl.r += n
			if left -= int64(n); left == 0 {
				break
			}
			if cl.fill() != nil {
				return false
			}
		}
	case h1.BodyChunked:
		co := s.chunks()
		co.cs = chunkScanner{}
		for co.cs.st != chTrailer {
			for cl.r < cl.w && co.cs.st != chTrailer {
				n, _, err := co.cs.next(cl.buf[cl.r:cl.w])
				if err != nil {
					return false
				}
				cl.r += n
			}
			if co.cs.st != chTrailer && cl.fill() != nil {
				return false
			}
		}
		if _, err := co.trailers(cl, s.fe.maxHdr, s.fe.bufSize); err != nil {
			return false
		}
	default:
		return false
	}
	s.bodyDone = true
	return true
}

// showCache is the "show cache" answer: each cache with its free
// blocks, then its live objects by key. HAProxy prints addresses; these
// are made up, one per cache and object.
func (e *Engine) showCache() string {
	g := e.g
	if g == nil {
		return ""
	}
	now := time.Now().Unix()
	var b []byte
	for i, c := range g.cacheOrder {
		list, avail := c.Show(now)
		shctx := uint64(0x7f0000000000) + uint64(i)<<32
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, shctx+0x3a, 16)
		b = append(b, ": "...)
		b = append(b, c.Name()...)
		b = append(b, " (shctx:0x"...)
		b = strconv.AppendUint(b, shctx, 16)
		b = append(b, ", available blocks:"...)
		b = strconv.AppendInt(b, int64(avail), 10)
		b = append(b, ")\n"...)
		for _, en := range list {
			b = append(b, "0x"...)
			b = strconv.AppendUint(b, shctx+0xc8+en.ID<<4, 16)
			b = append(b, " hash:"...)
			b = strconv.AppendUint(b, uint64(en.Key), 10)
			b = append(b, " vary:0x"...)
			for _, x := range en.SecKey {
				b = append(b, "0123456789abcdef"[x>>4], "0123456789abcdef"[x&15])
			}
			b = append(b, " size:"...)
			b = strconv.AppendInt(b, int64(en.Size), 10)
			b = append(b, " ("...)
			b = strconv.AppendInt(b, int64(en.Blocks), 10)
			b = append(b, " blocks), refcount:0, expire:"...)
			b = strconv.AppendInt(b, en.Expire, 10)
			b = append(b, '\n')
		}
	}
	return string(b)
}
