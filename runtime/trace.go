package runtime

// The trace filter (configuration.txt 9.1, flt_trace.c): for each HTTP
// stream it writes the filter callbacks HAProxy calls, one line each, on
// stderr, and with random-forwarding it lets each message's payload go
// in randomly sized pieces. It hooks into the transaction at the points
// where HAProxy's filter callbacks run, and into the sides' writes for
// the payload; a stream with no trace filter carries a nil pointer.

import (
	"fmt"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
)

// traceConf is one "filter trace" line of a proxy.
type traceConf struct {
	// name is "NAME/proxy", or "TRACE/proxy" without a name, as
	// trace_init makes it.
	name                    string
	quiet, randFwd, hexdump bool
}

// compileTraces reads a proxy's trace filters.
func compileTraces(p *parser.Proxy) []*traceConf {
	var out []*traceConf
	for _, f := range p.Filters {
		if f.Kind != "trace" || f.Trace == nil {
			continue
		}
		name := "TRACE"
		if f.Trace.Name != "" {
			name = f.Trace.Name
		}
		out = append(out, &traceConf{name: name + "/" + p.Name, quiet: f.Trace.Quiet,
			randFwd: f.Trace.RandFwd, hexdump: f.Trace.Hexdump})
	}
	return out
}

// traceConfs are the trace filters of every proxy, in proxy order.
func (g *Graph) traceConfs() []*traceConf {
	var confs []*traceConf
	for _, p := range g.proxies {
		if p.fe != nil {
			confs = append(confs, p.fe.traces...)
		} else if p.be != nil {
			confs = append(confs, p.be.traces...)
		}
	}
	return confs
}

// threads is nbthread, or the CPUs HAProxy would take without it.
func (g *Graph) threads() int {
	if g.Threads > 0 {
		return g.Threads
	}
	return goruntime.GOMAXPROCS(0)
}

// traceInit writes the lines trace_init and trace_init_per_thread write
// when the process starts, for every trace filter in proxy order.
func (g *Graph) traceInit() {
	confs := g.traceConfs()
	if len(confs) == 0 {
		return
	}
	var b []byte
	for _, c := range confs {
		b = c.appendHead(b[:0], time.Now())
		b = fmt.Appendf(b, "filter initialized [quiet=%t - fwd random=%t - hexdump=%t]\n", c.quiet, c.randFwd, c.hexdump)
		c.write(b)
	}
	for tid := 0; tid < g.threads(); tid++ {
		for _, c := range confs {
			b = c.appendHead(b[:0], time.Now())
			b = fmt.Appendf(b, "filter initialized for thread tid %d\n", tid)
			c.write(b)
		}
	}
}

// traceDeinit writes the lines trace_deinit_per_thread and trace_deinit
// write when the process ends.
func (g *Graph) traceDeinit() {
	confs := g.traceConfs()
	var b []byte
	for tid := 0; tid < g.threads() && len(confs) > 0; tid++ {
		for _, c := range confs {
			b = c.appendHead(b[:0], time.Now())
			b = fmt.Appendf(b, "filter deinitialized for thread tid %d\n", tid)
			c.write(b)
		}
	}
	for _, c := range confs {
		b = c.appendHead(b[:0], time.Now())
		b = append(b, "filter deinitialized\n"...)
		c.write(b)
	}
}

// appendHead is FLT_TRACE's prefix: the time and the padded name.
func (c *traceConf) appendHead(b []byte, now time.Time) []byte {
	return fmt.Appendf(b, "%d.%06d [%-20s] ", now.Unix(), now.Nanosecond()/1000, c.name)
}

// write puts one or more whole lines on stderr, unless quiet.
func (c *traceConf) write(b []byte) {
	if !c.quiet {
		os.Stderr.Write(b)
	}
}

// traceFlt is a trace filter attached to a stream.
type traceFlt struct {
	c       *traceConf
	backend bool // attached with the backend (filter-type=backend)
}

// traceStream is a stream's trace filters and where its messages are.
type traceStream struct {
	// on: the stream has trace filters; mode is the proxies' mode as
	// the lines show it, HTTP or TCP.
	on   bool
	mode string
	s    *session
	flts []traceFlt
	// nfe is the count of the frontend's filters, first in flts.
	nfe int
	// feDone: the frontend's analysers ran; beSet: the backend was set
	// (stream_pos says backend); rspOn: the response's analysis started.
	feDone, beSet, rspOn bool
	// rspStarted: a tunnel's response analysis was shown.
	rspStarted atomic.Bool
	req, rsp   traceChan
	line, dump []byte
}

// traceChan follows one message's payload through its side's writes.
type traceChan struct {
	t    *traceStream
	resp bool
	// head is what is left to write of the message's head, which goes
	// before its payload and is not part of it; headLen its size.
	head, headLen int
	// payloads counts the payload callbacks made; ended says http_end
	// was called.
	payloads int
	ended    bool
	piece    [maxSegs + 4][]byte
	// line and dump are the payload lines' buffers; one is a tunnel
	// write's slice.
	line, dump []byte
	one        [1][]byte
}

// traceStart attaches the frontend's trace filters to a new stream and
// writes the callbacks HAProxy makes up to the backend's choice.
func (s *session) traceStart() {
	t := s.traceNew()
	for i := range t.flts {
		t.printf(i, "%-25s: filter-type=frontend", "trace_attach")
	}
	for i := range t.flts {
		t.printf(i, "%-25s", "trace_stream_start")
	}
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "REQUEST")
	t.analyze(false, "AN_REQ_WAIT_HTTP")
	// The frontend's rules run now: one that answers ends the stream
	// before the analyser's POST step.
	t.step(false, "AN_REQ_HTTP_PROCESS_FE", "PRE")
	t.feDone = false
}

// traceNew readies the stream's trace with the frontend's filters.
func (s *session) traceNew() *traceStream {
	t := s.tr
	if t == nil {
		t = &traceStream{s: s}
		t.req.t, t.rsp.t, t.rsp.resp = t, t, true
		s.tr = t
	}
	t.on, t.mode = true, "HTTP"
	t.flts = t.flts[:0]
	for _, c := range s.fe.traces {
		t.flts = append(t.flts, traceFlt{c: c})
	}
	t.nfe = len(t.flts)
	t.beSet, t.rspOn = false, false
	t.req.reset()
	t.rsp.reset()
	return t
}

// tracing says the stream has trace filters.
func (s *session) tracing() bool { return s.tr != nil && s.tr.on }

func (c *traceChan) reset() {
	c.head, c.headLen, c.payloads, c.ended = 0, 0, 0, false
}

// traceRequest runs when the request goes to the backend with head as
// its head: the backend's filters attach, and the request's headers are
// shown. The server side's writes then go through the trace.
func (s *session) traceRequest(be *Backend, head []byte) {
	t := s.tr
	if !s.tracing() {
		// Only the backend has trace filters.
		t = s.traceNew()
		t.feDone = true
	}
	t.backend(be, head)
	t.req.head, t.req.headLen = len(head), len(head)
	s.sv.trace = &t.req
}

// backend writes the callbacks from the backend's choice to the
// request's headers.
func (t *traceStream) backend(be *Backend, head []byte) {
	if !t.feDone {
		t.step(false, "AN_REQ_HTTP_PROCESS_FE", "POST")
		t.step(false, "AN_REQ_SWITCHING_RULES", "PRE")
		t.feDone = true
	}
	t.setBackend(be)
	t.analyze(false, "AN_REQ_HTTP_PROCESS_BE")
	t.analyze(false, "AN_REQ_HTTP_INNER")
	t.headers("REQUEST", head)
}

// traceRequestEnd runs once the request is sent whole: the server's
// answer is awaited next.
func (s *session) traceRequestEnd() {
	t := s.tr
	t.end(&t.req)
	t.rspOn = true
	for i := range t.flts {
		t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "RESPONSE", t.mode, t.pos())
		if t.flts[i].backend {
			// HAProxy starts a backend filter's response analysis twice.
			t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "RESPONSE", t.mode, t.pos())
		}
	}
	t.step(true, "AN_RES_WAIT_HTTP", "PRE")
}

// traceResponse runs when the response's head, as it goes to the
// client, is made.
func (s *session) traceResponse(head []byte) {
	t := s.tr
	if !t.req.ended {
		s.traceRequestEnd()
	}
	t.step(true, "AN_RES_WAIT_HTTP", "POST")
	t.analyze(true, "AN_RES_HTTP_PROCESS_FE/BE")
	t.headers("RESPONSE", head)
	t.rsp.head, t.rsp.headLen = len(head), len(head)
	s.cl.trace = &t.rsp
}

// traceResponseEnd runs once the response went whole to the client.
func (s *session) traceResponseEnd() {
	if t := s.tr; t.rspOn {
		t.end(&t.rsp)
	}
}

// traceTimeouts runs when the stream wakes up for a timer (a connection
// retry): HAProxy had shown the request before connecting.
func (s *session) traceTimeouts() {
	t := s.tr
	t.requestShown()
	for i := range t.flts {
		t.printf(i, "%-25s", "trace_check_timeouts")
	}
}

// requestShown writes the request's callbacks, before the server
// connection, when the request did not go (yet).
func (t *traceStream) requestShown() {
	s := t.s
	if !t.beSet && s.beAssigned && s.be != nil && s.txn.Req != nil {
		t.backend(s.be, s.txn.Buf)
		t.req.headLen = s.txn.Req.HeadLen
		t.end(&t.req)
	}
}

// traceStop ends the stream: its filters detach.
func (s *session) traceStop() {
	t := s.tr
	t.on = false
	s.sv.trace, s.cl.trace = nil, nil
	// The request never went (no connection to the server).
	t.requestShown()
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_end_analyze", "REQUEST")
	if t.beSet {
		t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_end_analyze", "RESPONSE")
	}
	t.detach()
}

// detach writes the stream's end: its filters detach.
func (t *traceStream) detach() {
	for i := t.nfe; i < len(t.flts); i++ {
		t.printf(i, "%-25s: filter-type=backend", "trace_detach")
	}
	for i := 0; i < t.nfe; i++ {
		t.printf(i, "%-25s", "trace_stream_stop")
	}
	for i := 0; i < t.nfe; i++ {
		t.printf(i, "%-25s: filter-type=frontend", "trace_detach")
	}
}

// pos is stream_pos.
func (t *traceStream) pos() string {
	if t.beSet {
		return "backend"
	}
	return "frontend"
}

// printf writes one FLT_STRM_TRACE line for filter i.
func (t *traceStream) printf(i int, format string, a ...any) {
	t.printTo(&t.line, i, format, a...)
}

// printTo is printf formatting in *buf: a tunnel's directions write at
// once, each with its own buffer.
func (t *traceStream) printTo(buf *[]byte, i int, format string, a ...any) {
	c := t.flts[i].c
	if c.quiet {
		return
	}
	b := c.appendHead((*buf)[:0], time.Now())
	// The stream's address and id; gohap has no analyser bits to show.
	b = fmt.Appendf(b, "[strm %p(%x) 0x%08x 0x%08x] ", unsafe.Pointer(t.s), t.s.logUniq, 0, 0)
	b = fmt.Appendf(b, format, a...)
	b = append(b, '\n')
	os.Stderr.Write(b)
	*buf = b
}

// each writes a channel callback's line for every filter.
func (t *traceStream) each(format, fn, channel string) {
	for i := range t.flts {
		t.printf(i, format, fn, channel, t.mode, t.pos())
	}
}

// step writes the channel_pre/post_analyze lines of an analyser.
func (t *traceStream) step(resp bool, an, step string) {
	ch := "REQUEST"
	if resp {
		ch = "RESPONSE"
	}
	for i := range t.flts {
		t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s) - analyzer=%s - step=%s", "trace_chn_analyze",
			ch, t.mode, t.pos(), an, step)
	}
}

// analyze is an analyser's PRE then POST lines.
func (t *traceStream) analyze(resp bool, an string) {
	t.step(resp, an, "PRE")
	t.step(resp, an, "POST")
}

// headers writes trace_http_headers: the start line, then each header
// with its name in lower case, as HTX holds them.
func (t *traceStream) headers(channel string, head []byte) {
	line, rest := cutLine(head)
	p1, p2, p3 := splitStartLine(line)
	if s := t.s; s.h2Stream && channel == "REQUEST" && len(p2) > 0 {
		// HTX holds an HTTP/2 request's target absolute, and its
		// version as HTTP/2.0.
		if b, ok := acl.AbsTarget(nil, s.h2Origin, p2); ok {
			p2, p3 = b, h2Version
		} else if p2[0] == '/' {
			p3 = h2Version
		}
	}
	for i := range t.flts {
		t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s)\t%s %s %s", "trace_http_headers",
			channel, t.mode, t.pos(), p1, p2, p3)
		for r := rest; ; {
			var h []byte
			h, r = cutLine(r)
			if len(h) == 0 {
				break
			}
			name, value := h, []byte(nil)
			for j, ch := range h {
				if ch == ':' {
					name, value = h[:j], trimOWS(h[j+1:])
					break
				}
			}
			t.printf(i, "\t%s: %s", lowerName(&t.dump, name), value)
		}
	}
}

// end writes the message's http_end, after an empty payload callback for
// a message that had none.
func (t *traceStream) end(c *traceChan) {
	if c.ended {
		return
	}
	if c.payloads == 0 {
		c.payload(c.headLen, 0, 0, nil)
	}
	c.ended = true
	ch := "REQUEST"
	if c.resp {
		ch = "RESPONSE"
	}
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_http_end", ch)
}

// payload makes the http_payload callbacks for n bytes at offset off,
// of which the first dlen are data, in data: each filter forwards part
// of what the previous one forwarded (all of it unless
// random-forwarding). It returns the bytes forwarded.
func (c *traceChan) payload(off, n, dlen int, data [][]byte) int {
	t := c.t
	c.payloads++
	ch := "REQUEST"
	if c.resp {
		ch = "RESPONSE"
	}
	fn := "trace_http_payload"
	if t.mode == "TCP" {
		fn = "trace_tcp_payload"
	}
	for i := range t.flts {
		f := t.flts[i].c
		fwd := n
		switch {
		case n > 0 && f.randFwd && t.mode == "TCP":
			// ha_random() % (len+1): raw data may wait.
			fwd = int(rand.Uint64N(uint64(n) + 1))
		case n > 0 && f.randFwd && dlen > 0:
			// ha_random() % (len+1), nothing or all the data meaning
			// all.
			if fwd = int(rand.Uint64N(uint64(n) + 1)); fwd == 0 || fwd >= dlen {
				fwd = n
			}
		}
		t.printTo(&c.line, i, "%-25s: channel=%-10s - mode=%-5s (%s) - offset=%d - len=%d - forward=%d", fn,
			ch, t.mode, t.pos(), off, n, fwd)
		if f.hexdump && min(fwd, dlen) > 0 {
			c.hexdump(data, min(fwd, dlen))
		}
		n, dlen = fwd, min(fwd, dlen)
	}
	return n
}

// hexdump writes trace_hexdump's dump of the first n bytes of data;
// like HAProxy's, it is written even by a quiet filter.
func (c *traceChan) hexdump(data [][]byte, n int) {
	p := c.dump[:0]
	for _, d := range data {
		if len(p)+len(d) >= n {
			p = append(p, d[:n-len(p)]...)
			break
		}
		p = append(p, d...)
	}
	c.dump = p
	b := appendHexdump(c.line[:0], p)
	os.Stderr.Write(b)
	c.line = b
}

// appendHexdump formats p as trace_hexdump does: 16 bytes a line, in two
// groups of 8, then the printable characters.
func appendHexdump(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	padding := 0
	if len(p)%16 != 0 {
		padding = 16 - len(p)%16
	}
	for i := 0; i < len(p)+padding; i++ {
		if i%16 == 0 {
			b = fmt.Appendf(b, "\t0x%06x: ", i)
		} else if i%8 == 0 {
			b = append(b, "  "...)
		}
		if i < len(p) {
			b = append(b, hex[p[i]>>4], hex[p[i]&0xf], ' ')
		} else {
			b = append(b, "   "...)
		}
		if i%16 == 15 {
			b = append(b, "  |"...)
			for j := i - 15; j <= i && j < len(p); j++ {
				if p[j] >= 0x20 && p[j] < 0x7f {
					b = append(b, p[j])
				} else {
					b = append(b, '.')
				}
			}
			b = append(b, "|\n"...)
		}
	}
	return b
}

// send writes b for side s (awaiting the answer on the last write with
// await): the message's head, then its payload through the filters'
// payload callbacks, each forwarded part in a write of its own. The
// payload counts the body's data, as HTX holds it, without the chunked
// framing gohap writes around it.
func (c *traceChan) send(s *side, b [][]byte, await bool) error {
	total, n, eot := 0, 0, 0
	h := c.head
	for _, x := range b {
		total += len(x)
		if len(x) > 0 && (&x[0] == &lastChunk[0] || &x[len(x)-1] == &endData[len(endData)-1]) {
			// The chunked message ends here: HTX's end-of-trailers
			// block, one byte, goes with this payload.
			eot = 1
		}
		switch k := min(h, len(x)); {
		case k > 0:
			h -= k
			if !c.framing(x) {
				n += len(x) - k
			}
		case !c.framing(x):
			n += len(x)
		}
	}
	h = min(c.head, total)
	c.head -= h
	n += eot
	if n == 0 || c.ended {
		if await {
			return c.awaitv(s, b)
		}
		return s.writev(b)
	}
	// The first payload comes after the head, as in HAProxy's buffer.
	off := 0
	if c.payloads == 0 {
		off = c.headLen
	}
	for n > 0 {
		fwd := c.payload(off, n, n-eot, c.dataOf(b, h))
		w := total
		if fwd < n {
			w = c.wireLen(b, h, fwd)
		}
		var p [][]byte
		p, b = c.cut(b, w)
		total -= w
		h = 0
		n -= fwd
		off += fwd
		var err error
		if n == 0 && await {
			err = c.awaitv(s, append(p, b...))
		} else if n == 0 {
			err = s.writev(append(p, b...))
		} else {
			err = s.writev(p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// framing says x is chunked framing gohap wrote (size line, CRLF, last
// chunk, trailers), not the body's data.
func (c *traceChan) framing(x []byte) bool {
	if len(x) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(&x[0]))
	co := c.t.s.chunks()
	in := func(b []byte) bool {
		if cap(b) == 0 {
			return false
		}
		b = b[:cap(b)]
		return p >= uintptr(unsafe.Pointer(&b[0])) && p <= uintptr(unsafe.Pointer(&b[len(b)-1]))
	}
	return &x[0] == &crlf[0] || &x[0] == &lastChunk[0] || in(endData) || in(co.hdr[:]) || in(co.tbuf)
}

// wireLen is how many bytes of b hold its first h bytes (the head) and
// then n bytes of data, with the framing before them.
func (c *traceChan) wireLen(b [][]byte, h, n int) int {
	w := 0
	for _, x := range b {
		if h > 0 {
			k := min(h, len(x))
			h -= k
			w += k
			x = x[k:]
			if len(x) == 0 {
				continue
			}
		}
		if n == 0 {
			break
		}
		if c.framing(x) {
			w += len(x)
			continue
		}
		k := min(n, len(x))
		w += k
		n -= k
	}
	return w
}

// awaitv is the side's awaitv, whose write, made inside its readiness
// wait through sendv, must not come through the trace again.
func (c *traceChan) awaitv(s *side, b [][]byte) error {
	s.trace = nil
	err := s.awaitv(b)
	s.trace = c
	return err
}

// dataOf is the data of b past its first h bytes, in piece's slots.
func (c *traceChan) dataOf(b [][]byte, h int) [][]byte {
	p := c.piece[:0]
	for _, x := range b {
		if h >= len(x) {
			h -= len(x)
			continue
		}
		if x = x[h:]; !c.framing(x) {
			p = append(p, x)
		}
		h = 0
	}
	return p
}

// cut splits off the first n bytes of b, in piece's slots, and returns
// them and the rest.
func (c *traceChan) cut(b [][]byte, n int) ([][]byte, [][]byte) {
	p := c.piece[:0]
	for n > 0 && len(b) > 0 {
		if len(b[0]) <= n {
			p = append(p, b[0])
			n -= len(b[0])
			b = b[1:]
		} else {
			p = append(p, b[0][:n])
			b[0] = b[0][n:]
			n = 0
		}
	}
	return p, b
}

var h2Version = []byte("HTTP/2.0")

// cutLine returns b's first line without its CRLF, and the rest.
func cutLine(b []byte) ([]byte, []byte) {
	for i, ch := range b {
		if ch == '\n' {
			l := b[:i]
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			return l, b[i+1:]
		}
	}
	return b, nil
}

// splitStartLine splits a start line in its three parts.
func splitStartLine(l []byte) (p1, p2, p3 []byte) {
	i := indexByte(l, ' ')
	if i < 0 {
		return l, nil, nil
	}
	p1, l = l[:i], l[i+1:]
	if i = indexByte(l, ' '); i < 0 {
		return p1, l, nil
	}
	return p1, l[:i], l[i+1:]
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// lowerName is name in lower case, in *buf.
func lowerName(buf *[]byte, name []byte) []byte {
	*buf = h1.AppendLower((*buf)[:0], name)
	return *buf
}

// traceTCPStart attaches the frontend's trace filters to a TCP stream.
func (s *session) traceTCPStart() {
	t := s.traceNew()
	t.mode, t.feDone = "TCP", true
	t.rspStarted.Store(false)
	for i := range t.flts {
		t.printf(i, "%-25s: filter-type=frontend", "trace_attach")
	}
	for i := range t.flts {
		t.printf(i, "%-25s", "trace_stream_start")
	}
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "REQUEST")
	t.step(false, "AN_REQ_SWITCHING_RULES", "PRE")
}

// traceTCPBackend runs once a TCP stream has its backend.
func (s *session) traceTCPBackend(be *Backend) {
	t := s.tr
	if !s.tracing() {
		// Only the backend has trace filters.
		t = s.traceNew()
		t.mode, t.feDone = "TCP", true
		t.rspStarted.Store(false)
	}
	t.setBackend(be)
}

// setBackend writes the backend's choice: its filters attach, the
// switching rules end.
func (t *traceStream) setBackend(be *Backend) {
	if be != t.s.fe.own {
		for _, c := range be.traces {
			t.flts = append(t.flts, traceFlt{c: c, backend: true})
			t.printf(len(t.flts)-1, "%-25s: filter-type=backend", "trace_attach")
		}
	}
	for i := range t.flts {
		t.printf(i, "%-25s: backend=%s", "trace_stream_set_backend", be.Name)
	}
	t.beSet = true
	for i := 0; i < t.nfe; i++ {
		t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s) - analyzer=%s - step=%s", "trace_chn_analyze",
			"REQUEST", t.mode, t.pos(), "AN_REQ_SWITCHING_RULES", "POST")
	}
	for i := t.nfe; i < len(t.flts); i++ {
		t.printf(i, "%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "REQUEST", t.mode, t.pos())
	}
}

// traceTunnel hands a TCP stream's trace to its tunnel, once connected:
// the tunnel's writes go through the payload callbacks and its end
// ends the stream.
func (s *session) traceTunnel(tn *tunnel) {
	t := s.tr
	s.tr = nil
	tn.tr = t
}

// responseStart writes, once, that the response's analysis started: as
// HAProxy, after the request data it had when the server connection was
// made, before the response's first data.
func (t *traceStream) responseStart() {
	if t.rspStarted.CompareAndSwap(false, true) {
		t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_start_analyze", "RESPONSE")
	}
}

// write sends b to dst through the payload callbacks of the direction
// (fromClient: the request channel).
func (t *traceStream) write(fromClient bool, dst netConn, b []byte) error {
	c := &t.rsp
	if fromClient {
		c = &t.req
	} else {
		t.responseStart()
	}
	off := 0
	for len(b) > 0 {
		c.one[0] = b
		fwd := c.payload(off, len(b), len(b), c.one[:])
		if fwd == 0 {
			continue
		}
		if _, err := dst.Write(b[:fwd]); err != nil {
			return err
		}
		b = b[fwd:]
		off += fwd
	}
	if fromClient {
		t.responseStart()
	}
	return nil
}

// tcpStop ends a tunnel's stream, the channel whose data ended first
// first (serverFirst: the response's).
func (t *traceStream) tcpStop(serverFirst bool) {
	first, second := "REQUEST", "RESPONSE"
	if serverFirst {
		first, second = second, first
	}
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_end_analyze", first)
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_end_analyze", second)
	t.detach()
}

// traceTCPEnd ends a TCP stream that did not become a tunnel.
func (s *session) traceTCPEnd() {
	if !s.tracing() {
		return
	}
	t := s.tr
	t.on = false
	t.each("%-25s: channel=%-10s - mode=%-5s (%s)", "trace_chn_end_analyze", "REQUEST")
	t.detach()
}
