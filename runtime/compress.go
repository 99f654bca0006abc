package runtime

import (
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/comp"
	"github.com/gohap/gohap/runtime/h1"
)

// compGlobal is the process-wide part of HTTP compression: the encoders
// at tune.comp.maxlevel, and the input rate that "maxcomprate" bounds.
type compGlobal struct {
	pool *comp.Pool
	// rate measures the bytes given to the compressors per second; nil
	// without maxcomprate, whose value is limit (bytes per second).
	rate  *rateLimiter
	limit int
}

func newCompGlobal(g *parser.Global) *compGlobal {
	level := g.CompMaxLevel
	if level == 0 {
		level = comp.DefaultLevel
	}
	c := &compGlobal{pool: comp.NewPool(level), limit: g.MaxCompRate}
	if c.limit > 0 {
		c.rate = &rateLimiter{limit: c.limit}
	}
	return c
}

// compileCompression reads a proxy's "compression" lines; nil without
// any, as HAProxy leaves proxy->comp NULL.
func compileCompression(p *parser.Proxy, fail func(parser.Pos, string, ...any)) *comp.Config {
	c := p.Compression
	if c == nil {
		return nil
	}
	cfg := &comp.Config{Types: c.Types, Offload: c.Offload}
	for _, w := range c.Algos {
		a, err := comp.ParseAlgo(w)
		if err != nil {
			fail(c.Pos, "%v", err)
			continue
		}
		cfg.Algos = append(cfg.Algos, a)
	}
	return cfg
}

// compState is the compression of the transaction in progress.
type compState struct {
	cfg  comp.Config
	algo comp.Algo
	// dropAE removes Accept-Encoding from the request (offload).
	dropAE bool
	// req holds what the response decision reads of the request.
	req comp.Request
	// on says the response is compressed, with edits to its head;
	// etagDone marks the ETag prefix as made.
	on       bool
	edits    comp.Edits
	etagDone bool
}

// compOn says the response being served is compressed. The flag reads
// the compression state only once a stream used it.
func (s *session) compOn() bool { return s.used&scratchComp != 0 && s.zs.on }

// compDropAE says Accept-Encoding goes (compression offload).
func (s *session) compDropAE() bool { return s.used&scratchComp != 0 && s.zs.dropAE }

// compRequest picks the algorithm once the request has gone through the
// rules of both proxies, as the filter's request headers callback does.
func (s *session) compRequest(head []byte, be *Backend) {
	z := &s.zs
	if s.fe.comp == nil && be.comp == nil {
		if s.used&scratchComp != 0 {
			z.on, z.algo, z.dropAE = false, comp.None, false
		}
		return
	}
	s.used |= scratchComp
	z.on, z.algo, z.dropAE = false, comp.None, false
	z.cfg = comp.Merge(s.fe.comp, be.comp)
	z.req = comp.RequestFromH1(head, &s.req)
	z.algo, z.dropAE = z.cfg.SelectRequest(&z.req)
	// Only the version and the method are read later.
	z.req.Buf, z.req.Headers = nil, nil
}

// compResponse decides on the response head as the server sent it, before
// the response rules (comp_http_post_analyze on AN_RES_WAIT_HTTP).
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) compResponse(rhead []byte) {
	if s.used&scratchComp == 0 {
		return
	}
	z := &s.zs
	z.on, z.etagDone = false, false
	if z.algo == comp.None {
		return
	}
	rsp := comp.ResponseFromH1(rhead, &s.rsp)
	var lim comp.Limits
	if g := s.e.g.comp; g.rate != nil {
		lim.RateExceeded = g.rate.addN(time.Now(), 0) > g.limit
	}
	z.edits, z.on = z.cfg.SelectResponse(z.algo, &z.req, &rsp, lim)
}

// editHeader applies the Remove and Prefix edits to one response header
// being written; it reports whether it wrote (or dropped) the header.
func (z *compState) editHeader(out, name, value []byte) ([]byte, bool) {
	for _, e := range z.edits.List() {
		if len(name) != len(e.Name) || !h1.EqualFold(name, e.Name) {
			continue
		}
		switch e.Op {
		case comp.Remove:
			return out, true
		case comp.Prefix:
			if z.etagDone {
				continue
			}
			z.etagDone = true
			out = h1.AppendLower(out, name)
			out = append(out, ": "...)
			out = append(out, e.Value...)
			out = append(out, value...)
			return append(out, "\r\n"...), true
		}
	}
	return out, false
}

// appendAdds appends the headers the compression adds, after all others
// as http_add_header puts them.
func (z *compState) appendAdds(out []byte) []byte {
	for _, e := range z.edits.List() {
		if e.Op == comp.Add {
			out = append(out, e.Name...)
			out = append(out, ": "...)
			out = append(out, e.Value...)
			out = append(out, "\r\n"...)
		}
	}
	return out
}

// relayCompressed forwards a Content-Length or chunked response body
// compressed and chunked. What each read brings is compressed and
// flushed at once, as HAProxy does for each data block; the last block
// ends the stream. An empty chunked body still gets a whole (empty)
// stream, as HAProxy finishes it on the end of the message.
func (s *session) relayCompressed(body h1.BodyKind) error {
	g := s.e.g.comp
	enc, err := g.pool.Get(s.zs.algo)
	if err != nil {
		return &bodyErr{err: err}
	}
	bp := s.fe.pool.get()
	zb, err := s.compressBody(body, enc, (*bp)[:0])
	// A buffer the compressor grew goes back to the pool grown.
	*bp = zb[:cap(zb)]
	g.pool.Put(enc)
	s.fe.pool.put(bp)
	return err
}

// compressBody is relayCompressed's loop; zb is its output buffer,
// returned as last used.
func (s *session) compressBody(body h1.BodyKind, enc *comp.Encoder, zb []byte) ([]byte, error) {
	src, dst, co, g := &s.sv, &s.cl, s.chunks(), s.e.g.comp
	co.cs = chunkScanner{}
	co.iov[0] = nil
	remain := s.rsp.Length
	// HAProxy counts the response as it came, before its compression:
	// the data, and a chunked body's end and trailers.
	w0, fed := dst.htxOut(), int64(0)
	defer func() { dst.whtx += w0 + fed - dst.htxOut() }()
	for {
		zb = zb[:0]
		in, last := 0, false
		var err error
		if body == h1.BodyLength {
			n := int(min(int64(src.w-src.r), remain))
			if n > 0 {
				zb, err = enc.Write(zb, src.buf[src.r:src.r+n])
				s.cch.w.Feed(src.buf[src.r:src.r+n], false)
				src.r += n
				remain -= int64(n)
				in = n
				fed += int64(n)
			}
			last = remain == 0
		} else {
			for err == nil && src.r < src.w && co.cs.st != chTrailer {
				n, dlen, perr := co.cs.next(src.buf[src.r:src.w])
				if perr != nil {
					return zb, &bodyErr{src: true, framing: true, err: perr}
				}
				if dlen > 0 {
					zb, err = enc.Write(zb, src.buf[src.r+n-dlen:src.r+n])
					s.cch.w.Feed(src.buf[src.r+n-dlen:src.r+n], false)
					in += dlen
					fed += int64(dlen)
				}
				src.r += n
			}
			last = co.cs.st == chTrailer
		}
		if err != nil {
			return zb, &bodyErr{err: err}
		}
		if in > 0 && g.rate != nil && enc.Algo() != comp.Identity {
			// Identity has level 0 in HAProxy: its bytes bypass.
			g.rate.addN(time.Now(), in)
		}
		if last {
			s.cch.w.Feed(nil, true)
			var tl []byte
			if body == h1.BodyChunked {
				if tl, err = co.trailers(src, s.fe.maxHdr, s.fe.bufSize); err != nil {
					return zb, err
				}
				fed += 1 + co.trailersHTX()
			}
			if zb, err = enc.Close(zb); err != nil {
				return zb, &bodyErr{err: err}
			}
			out := co.iov[:1]
			if len(zb) > 0 {
				out = co.frame(append(co.iov[:2], zb), len(zb))
			}
			if err := dst.sendv(endChunks(out, len(zb) > 0, tl)); err != nil {
				return zb, &bodyErr{err: err}
			}
			return zb, nil
		}
		if in > 0 {
			if zb, err = enc.Flush(zb); err != nil {
				return zb, &bodyErr{err: err}
			}
			if len(zb) > 0 {
				if err := dst.sendv(co.frame(append(co.iov[:2], zb), len(zb))); err != nil {
					return zb, &bodyErr{err: err}
				}
			}
		}
		src.r, src.w = 0, 0
		s.cch.w.NextRead()
		if err := src.fill(); err != nil {
			return zb, srcErr(err)
		}
	}
}

// addN counts n more events in the sliding second and returns the
// count of that second, as update_freq_ctr and read_freq_ctr do.
func (r *rateLimiter) addN(now time.Time, n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rotate(now)
	r.curr += n
	left := time.Second - now.Sub(r.start)
	return r.curr + int(int64(r.prev)*int64(left)/int64(time.Second))
}
