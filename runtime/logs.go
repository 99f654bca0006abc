package runtime

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/ring"
)

// feLog is how a frontend logs its traffic: HAProxy logs a stream with
// the settings of the frontend that accepted it.
type feLog struct {
	targets []logging.TargetConfig
	// key names the target list: frontends with the same targets share
	// one logger.
	key    string
	logger *logging.Logger
	// format renders a line per stream; without one, a "Connect from"
	// line is sent per connection, as HAProxy does.
	format *logging.Format
	sd     *logging.Format
	// errFormat is error-log-format's: the lines of connections that
	// failed before carrying a stream, and of requests the HTTP/1
	// parser refused.
	errFormat *logging.Format
	tag       string
	// dontLogNull, dontLogNormal and sepErrors are the options of the
	// same names.
	dontLogNull, dontLogNormal, sepErrors bool
	// asap is "option logasap": the line goes out once the response
	// head is in (http) or the server connected (tcp).
	asap  bool
	count atomic.Uint32
}

type capture struct {
	name []byte
	len  int
}

// eventLog reads where a proxy's events go (its log targets); nil when
// nowhere.
func eventLog(p *parser.Proxy) *feLog {
	if len(p.Log.Targets) == 0 {
		return nil
	}
	l := &feLog{tag: p.Log.Tag}
	var key strings.Builder
	for _, t := range p.Log.Targets {
		l.targets = append(l.targets, t.Target)
		fmt.Fprintf(&key, "%+v|", t.Target)
	}
	key.WriteString(l.tag)
	l.key = key.String()
	return l
}

// event sends a message about the backend's servers at level, as
// HAProxy's send_log to the backend's targets.
func (be *Backend) event(level logging.Level, msg string) {
	if be == nil || be.events == nil || be.events.logger == nil {
		return
	}
	be.events.logger.Emit(level, -1, []byte(msg), nil)
}

// compileLog reads a frontend's log settings; nil when it logs nothing.
func compileLog(p *parser.Proxy, ctx *acl.Context, fail func(parser.Pos, string, ...any)) *feLog {
	l := eventLog(p)
	if l == nil {
		return nil
	}
	l.dontLogNull, l.dontLogNormal, l.sepErrors = p.Options["dontlognull"], p.Options["dontlog-normal"], p.Options["log-separate-errors"]
	l.asap = p.Options["logasap"]
	compile := func(nodes []logfmt.Node, pos parser.Pos) *logging.Format {
		if nodes == nil {
			return nil
		}
		f, err := logging.Compile(nodes, logSampler(ctx))
		if err != nil {
			fail(pos, "log-format: %v", err)
			return nil
		}
		return f
	}
	l.format = compile(p.Log.Format, p.Log.FormatPos)
	l.sd = compile(p.Log.SD, p.Log.SDPos)
	l.errFormat = compile(p.Log.Err, p.Log.ErrPos)
	maxLen := 0
	for _, t := range l.targets {
		maxLen = max(maxLen, t.MaxLen)
	}
	for _, f := range []*logging.Format{l.format, l.sd, l.errFormat} {
		if f != nil {
			f.MaxLen = maxLen
		}
	}
	return l
}

// logSampler compiles the %[...] nodes of a proxy's formats through the
// sample engine, with the proxy's context.
func logSampler(ctx *acl.Context) func(string, logfmt.Opt) (logging.SampleFunc, error) {
	return func(expr string, _ logfmt.Opt) (logging.SampleFunc, error) {
		smp, err := acl.CompileSampleWith(expr, ctx)
		if err != nil {
			return nil, fmt.Errorf("'%%[%s]' is not supported by the gohap runtime yet", expr)
		}
		return func(r *logging.Record) ([]byte, bool) {
			t, _ := r.Ctx.(*acl.Txn)
			if t == nil {
				return nil, false
			}
			v, ok := smp.Append(r.Scratch[:0], t)
			r.Scratch = v[:0]
			return v, ok
		}, nil
	}
}

// startLogs opens the log targets, one logger per distinct list.
func (e *Engine) startLogs() error {
	host, _ := os.Hostname()
	if h := e.g.logHostname; h != "" {
		host = h
	}
	if !e.g.logSendHostname {
		host = ""
	}
	var sinks map[string]*ring.Sink
	if e.g.rings != nil {
		sinks = e.g.rings.byName
	}
	byKey := map[string]*logging.Logger{}
	var all []*feLog
	for _, fe := range e.g.Frontends {
		if fe.log != nil {
			all = append(all, fe.log)
		}
	}
	for _, be := range e.g.Backends {
		if be.events != nil {
			all = append(all, be.events)
		}
		if be.fcgi != nil && be.fcgi.log != nil {
			all = append(all, be.fcgi.log)
		}
	}
	for _, l := range all {
		if lg := byKey[l.key]; lg != nil {
			l.logger = lg
			continue
		}
		tag := l.tag
		if tag == "" {
			tag = e.g.logTag
		}
		lg, err := logging.New(l.targets, logging.Options{Hostname: host, Tag: tag, PID: os.Getpid(), Sinks: sinks})
		if err != nil {
			e.closeLogs()
			return fmt.Errorf("cannot open the log targets: %v", err)
		}
		byKey[l.key] = lg
		l.logger = lg
		e.loggers = append(e.loggers, lg)
	}
	e.g.rings.start()
	return nil
}

func (e *Engine) closeLogs() {
	e.g.rings.stop()
	for _, lg := range e.loggers {
		lg.Close()
	}
	e.loggers = nil
}

// logConnect sends HAProxy's line for a connection accepted by a
// frontend without a log format, dontlognull or not.
func (s *session) logConnect() {
	l := s.fe.log
	if l == nil || l.format != nil || l.logger == nil {
		return
	}
	s.used |= scratchRec
	r := &s.rec
	s.logAddrs(r)
	r.FrontendName = s.fe.Name
	line := logging.AppendConnect(s.logBuf[:0], r, s.http)
	s.logBuf = line
	l.logger.Emit(logging.LevelInfo, -1, line, nil)
}

// logTimes are the instants of a stream HAProxy's timers measure, as
// offsets from its start.
type logTimes struct {
	start               time.Time
	first, request      time.Time
	queue, connect, rsp time.Time
	// end is when the stream ended, once known: the counters, the log
	// line and the next stream's start share that one clock reading.
	end time.Time
}

// now is a reading for the stream's timers: its start plus the monotonic
// time since, one clock reading where time.Now makes two (wall and
// monotonic). Its wall time follows the start's, so a step of the wall
// clock shows from the next stream on.
func (lt *logTimes) now() time.Time { return readingAfter(lt.start) }

// readingAfter is now as t plus the monotonic time since: one clock
// reading. t is a reading of the same connection (time.Now when zero).
func readingAfter(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t.Add(time.Since(t))
}

// endTime is the stream's end, or now while it is in progress.
func (lt *logTimes) endTime() time.Time {
	if lt.end.IsZero() {
		return time.Now()
	}
	return lt.end
}

// ms is t's offset from start in milliseconds, -1 when t never came.
func (lt *logTimes) ms(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.Sub(lt.start).Milliseconds()
}

// logStream sends the line of the stream that ends, as HAProxy's
// strm_log: at info level, at err for errors with log-separate-errors,
// not at all for a normal one with dontlog-normal.
func (s *session) logStream(flags uint32, status int) {
	s.logStreamAt(flags, status, false, 0)
}

// logStreamAt is logStream; early sends the line of "option logasap"
// when the response head is in.
func (s *session) logStreamAt(flags uint32, status int, early bool, bodyIn int64) {
	l := s.fe.log
	if l == nil || l.logger == nil || s.noLog {
		return
	}
	f := l.format
	if s.muxLog && l.errFormat != nil {
		f = l.errFormat
	}
	if f == nil {
		return
	}
	if s.killed.Load() {
		// Whatever the closed server connection caused, the stream was
		// killed (SF_ERR_KILLED).
		flags = flags&^logging.SFErrMask | logging.SFErrKilled
	}
	if s.fe.uniqueFmt != nil && !s.uniqueSet {
		// The log makes the unique id when nothing asked for it yet.
		s.UniqueID()
	}
	if s.logRedisp {
		flags |= logging.SFRedisp
	}
	r := s.fillRecord(flags, status)
	r.LogASAP = l.asap
	if s.muxLog {
		// Without a stream, an idle time not measured is 0.
		r.TIdle = max(r.TIdle, 0)
	}
	if early {
		// http_process_res_common: the end is the response's arrival
		// and %B counts what the response holds so far, its head and
		// the body bytes read with it.
		r.TClose, r.BytesOut = r.TData, int64(s.rspHTX)+bodyIn
	}
	s.logBuf, s.logSD = l.emit(f, r, s.logLevel, s.logRetries, s.http, s.logBuf, s.logSD, s.lt.end)
}

// emit sends the line of the stream whose record is r, in format f,
// unless the stream is normal and such streams are not logged, or its
// level is silent; logLevel is set-log-level's (see session.logLevel).
// line and sd are the buffers to make the line in, returned as used.
func (l *feLog) emit(f *logging.Format, r *logging.Record, logLevel, retries int, http bool, line, sd []byte, at time.Time) ([]byte, []byte) {
	flags := r.Flags
	err := flags&logging.SFRedisp != 0 || flags&logging.SFErrMask > logging.SFErrLocal ||
		flags&logging.SFErrMask == logging.SFErrNone && retries > 0 || http && r.Status >= 500
	if !err && l.dontLogNormal {
		return line, sd
	}
	level := logging.LevelInfo
	switch {
	case logLevel < 0:
		// set-log-level silent
		return line, sd
	case logLevel > 0:
		level = logging.Level(logLevel - 1)
	case err && l.sepErrors:
		level = logging.LevelErr
	}
	// %lc: the frontend's count of lines sent before this one, which
	// counts once it is made (strm_log).
	r.LogCount = l.count.Load()
	line = f.Append(line[:0], r)
	if len(line) == 0 {
		return line, sd
	}
	l.count.Add(1)
	sd = sd[:0]
	if l.sd != nil {
		sd = l.sd.Append(sd, r)
	}
	l.logger.EmitAt(level, -1, line, sd, at)
	return line, sd
}

// streamBytes is what the stream received from its client and sent to
// it as HAProxy counts them (%U, %B, bin, bout): what its message holds,
// the heads as HTX blocks and the bodies' data without their framing.
func (s *session) streamBytes() (in, out int64) {
	in, out = s.cl.htxIn()-s.lt0In, s.cl.htxOut()-s.lt0Out
	if !s.http {
		return in, out
	}
	in += int64(s.reqHTX - s.reqWire)
	out += int64(s.rspHTX - s.rspWire)
	if out < 0 || s.rspWire == 0 {
		out = 0
	}
	return max(in, 0), out + int64(s.rspPre)
}

// noStreamBytes counts none of the bytes so far as the stream's: what
// HAProxy's HTTP/1 side reads and answers itself, before a stream
// exists, counts in no channel (a log line with %U and %B at 0).
func (s *session) noStreamBytes() {
	s.lt0In, s.lt0Out = s.cl.htxIn(), s.cl.htxOut()
	s.reqWire, s.reqHTX, s.rspWire, s.rspHTX, s.rspPre = 0, 0, 0, 0, 0
}

// fillRecord completes the record of the stream in progress.
func (s *session) fillRecord(flags uint32, status int) *logging.Record {
	s.used |= scratchRec
	r := &s.rec
	lt := &s.lt
	now := lt.endTime()
	r.AcceptDate = lt.start
	if t := s.txn.TLS; t != nil {
		// %ft's "~", %sslv and %sslc, made once per connection.
		if s.sslv == nil {
			s.sslv, s.sslc = []byte(t.Protocol), []byte(t.Cipher)
		}
		r.FrontendSSL, r.SSLVersion, r.SSLCipher = true, s.sslv, s.sslc
	}
	r.THandshake, r.TIdle = 0, -1
	if !lt.first.IsZero() {
		r.TIdle = lt.ms(lt.first)
	}
	r.TRequest = lt.ms(lt.request)
	r.TQueue, r.TConnect, r.TData = lt.ms(lt.queue), lt.ms(lt.connect), lt.ms(lt.rsp)
	r.TClose = now.Sub(lt.start).Milliseconds()
	s.logAddrs(r)
	r.FrontendName = s.fe.Name
	r.BackendName, r.ServerName, r.BackendHTTP = s.fe.Name, "", s.http
	if be := s.logBe; be != nil {
		r.BackendName, r.BackendHTTP = be.Name, be.HTTP
	}
	r.Server, r.BackendSrc, r.ServerUnix = netip.AddrPort{}, netip.AddrPort{}, false
	if s.logApplet != "" {
		r.ServerName = s.logApplet
	}
	if srv := s.logSrv; srv != nil {
		r.ServerName = srv.Name
		r.Server = s.logSrvAddr
		r.BackendSrc = s.logSrcAddr
		r.ServerUnix = isUnixServer(srv)
	}
	r.Status = status
	r.BytesIn, r.BytesOut = s.streamBytes()
	r.Flags = flags
	r.HasTxn = s.http
	r.CookieEnabled, r.TxFlags = s.ck != nil, s.ckTx
	r.ActConn = s.e.actconn()
	r.FeConn = s.fe.conns.Load()
	r.BeConn, r.SrvQueue, r.BckQueue = 0, 0, 0
	if be := s.logBe; be != nil {
		r.BeConn = be.conns.Load()
		r.BckQueue = int64(be.LB.QueueLen())
	}
	r.SrvConn = 0
	if srv := s.logSrv; srv != nil {
		r.SrvConn = int64(srv.Sessions())
	}
	r.Retries = int64(s.logRetries)
	r.PID = os.Getpid()
	s.takeUniq()
	r.ReqCounter = s.logUniq
	r.Ctx = &s.txn
	return r
}

// beginStream starts the timers and counters of a new stream.
func (s *session) beginStream(start time.Time) {
	s.lt = logTimes{start: start}
	s.lt0In, s.lt0Out = s.cl.htxIn(), s.cl.htxOut()
	s.contDone = [2]int64{}
	s.lt0Wire = [2]int64{s.cl.rbytes, s.cl.wbytes}
	s.lt0Sv = [2]int64{s.sv.rbytes, s.sv.wbytes}
	s.reqWire, s.reqHTX, s.rspPre = 0, 0, 0
	s.logBe, s.logSrv, s.logRetries, s.logApplet, s.logReused, s.noLog = nil, nil, 0, "", false, false
	s.logRedisp, s.noL7Retry = false, false
	s.logLevel, s.toServer, s.toTunnel = 0, 0, 0
	s.uniqueSet = false
	s.rspWire, s.rspHTX = 0, 0
	if s.used&scratchRec != 0 {
		s.rec.UniqueID, s.rec.RequestLine = nil, nil
		s.rec.ReqCaps, s.rec.ResCaps = s.rec.ReqCaps[:0], s.rec.ResCaps[:0]
	}
	s.uniqPending = true
}

// takeUniq numbers the stream (global.req_count) once its request began.
func (s *session) takeUniq() {
	if s.uniqPending {
		s.uniqPending = false
		s.logUniq = s.e.uniq.Add(1) - 1
	}
}

// compileCaptures reads the frontend's "capture request/response header"
// slots, which the capture fetches read with or without logging, and
// its cookie capture, at most tune.http.cookielen long.
func compileCaptures(g *parser.Global, p *parser.Proxy, fe *Frontend) {
	if p.Log.Cookie != "" {
		fe.capCookie, fe.capCookieLen = []byte(p.Log.Cookie), max(min(p.Log.CookieLen, g.CookieCapMax()), 0)
	}
	for _, c := range p.Log.ReqCaps {
		fe.reqCaps = append(fe.reqCaps, capture{name: []byte(strings.ToLower(c.Name)), len: c.Len})
	}
	for _, c := range p.Log.RspCaps {
		fe.rspCaps = append(fe.rspCaps, capture{name: []byte(strings.ToLower(c.Name)), len: c.Len})
	}
}

// captureRequest keeps the request line, for the log, and the captured
// headers of the head being served.
func (s *session) captureRequest(head []byte, req *h1.Msg) {
	if s.used&scratchRec != 0 {
		s.rec.CliCookie, s.rec.SrvCookie = nil, nil
	}
	if s.logging {
		s.used |= scratchRec
		end := bytes.IndexByte(head, '\n')
		if end < 0 {
			end = len(head)
		}
		if req != nil && req.Version.Len() > 0 {
			// HAProxy logs the line rebuilt from its parts, one space
			// between each, as http_fmt_req_line() writes it.
			ver, uri := req.Version.Of(head), req.URI.Of(head)
			if s.h2Stream {
				// The stream's own version and absolute target, as
				// HAProxy's HTX start line keeps them.
				ver = http20
				if b, ok := acl.AbsTarget(s.logURI[:0], s.h2Origin, uri); ok {
					s.logURI, uri = b, b
				}
			}
			s.logReqLine = fmtReqLine(s.logReqLine[:0], s.fe.logURILen, req.Method.Of(head), uri, ver)
		} else {
			line := bytes.TrimRight(head[:end], "\r")
			s.logReqLine = append(s.logReqLine[:0], line...)
		}
		s.rec.RequestLine = s.logReqLine
	}
	fe := s.fe
	if len(fe.reqCaps) == 0 && len(fe.rspCaps) == 0 {
		return
	}
	s.used |= scratchRec
	s.rec.ReqCaps = captureHeaders(s.rec.ReqCaps[:0], fe.reqCaps, head, req, &s.capBuf)
	if len(fe.reqCaps) == 0 {
		s.rec.ReqCaps = nil
	}
	// A response capture prints "{}" until a response fills it.
	s.rec.ResCaps = s.rec.ResCaps[:0]
	for range fe.rspCaps {
		s.rec.ResCaps = append(s.rec.ResCaps, nil)
	}
	if len(fe.rspCaps) == 0 {
		s.rec.ResCaps = nil
	}
}

// captureResponse keeps the captured response headers.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) captureResponse(head []byte, rsp *h1.Msg) {
	if s.fe.capCookie != nil || len(s.fe.rspCaps) != 0 {
		s.used |= scratchRec
	}
	if s.fe.capCookie != nil {
		s.rec.SrvCookie = s.captureCookie(s.capSrvCk[:0], head, rsp, "set-cookie")
		s.capSrvCk = s.rec.SrvCookie[:0]
	}
	if len(s.fe.rspCaps) == 0 {
		return
	}
	s.rec.ResCaps = captureHeaders(s.rec.ResCaps[:0], s.fe.rspCaps, head, rsp, &s.capRspBuf)
}

// captureHeaders fills one slot per capture with the last value of its
// header, cut to its length, as HAProxy's http_capture_headers; a slot
// stays nil when the header is absent.
func captureHeaders(dst [][]byte, caps []capture, head []byte, m *h1.Msg, buf *[]byte) [][]byte {
	if len(caps) == 0 {
		return nil
	}
	*buf = (*buf)[:0]
	for _, c := range caps {
		if len(c.name) == 0 {
			// A declared slot, which capture rules fill.
			dst = append(dst, nil)
			continue
		}
		var val []byte
		found := false
		for _, h := range m.Headers {
			if bytes.EqualFold(h.Name.Of(head), c.name) {
				val, found = h.Value.Of(head), true
			}
		}
		if !found {
			dst = append(dst, nil)
			continue
		}
		if len(val) > c.len {
			val = val[:c.len]
		}
		if i := bytes.IndexByte(val, 0); i >= 0 {
			// HAProxy keeps the capture as a C string: what reads it
			// stops at a NUL.
			val = val[:i]
		}
		start := len(*buf)
		*buf = append(*buf, val...)
		dst = append(dst, (*buf)[start:len(*buf):len(*buf)])
	}
	return dst
}

// errFlags are the termination flags of a stream the proxy answered
// with an error status.
func errFlags(code int) uint32 {
	switch code {
	case 408:
		return logging.SFErrCliTO | logging.SFFinstR
	case 502:
		return logging.SFErrPrxCond | logging.SFFinstH
	case 503:
		return logging.SFErrSrvCl | logging.SFFinstC
	case 504:
		return logging.SFErrSrvTO | logging.SFFinstH
	}
	return logging.SFErrPrxCond | logging.SFFinstR
}

// htxHeadSize is the size HAProxy's HTX message gives a head: the start
// line as a 20-byte block header and its three parts, each header's name
// and value (Connection is the connection's own), and one byte that ends
// the headers.
func htxHeadSize(head []byte, m *h1.Msg, request bool) int {
	n := 20 + 1
	if request {
		n += m.Method.Len() + m.URI.Len() + m.Version.Len()
	} else {
		n += m.Version.Len() + m.Code.Len() + m.Reason.Len()
	}
	for _, h := range m.Headers {
		name := h.Name.Of(head)
		if len(name) == 10 && bytes.EqualFold(name, []byte("connection")) {
			if l := connCleanLen(h.Value.Of(head)); l > 0 {
				n += 10 + l
			}
			continue
		}
		n += len(name) + h.Value.Len()
	}
	return n
}

// connCleanLen is the length of a Connection header's value once
// HAProxy's HTTP/1 side took its "close" and "keep-alive" out
// (h1_parse_connection_header): the rest as written while nothing was
// taken out before it, then the other tokens joined with commas. The
// header goes when nothing is left.
func connCleanLen(v []byte) int {
	lws := func(c byte) bool { return c == ' ' || c == '\t' }
	l, p := 0, 0
	for w := 0; w < len(v); w++ {
		if lws(v[w]) {
			continue
		}
		n := w + h1.ValueEnd(v[w:])
		we := n
		for we > w && lws(v[we-1]) {
			we--
		}
		word := v[w:we]
		if !bytes.EqualFold(word, []byte("keep-alive")) && !bytes.EqualFold(word, []byte("close")) {
			if l == p {
				l = n
			} else {
				if l > 0 {
					l++
				}
				l += len(word)
			}
		}
		w, p = n, n
	}
	return l
}

// setReply records the sizes of an answer the proxy makes itself.
func (s *session) setReply(page []byte) {
	if !s.track {
		return
	}
	var m h1.Msg
	if h1.ParseResponse(page, &m, maxHdr) != nil {
		return
	}
	s.rspWire, s.rspHTX = m.HeadLen, htxHeadSize(page, &m, false)
}

// logEmpty logs a connection closed before any request, as HAProxy
// does unless dontlognull is set.
func (s *session) logEmpty() {
	if !s.logging && !s.errLogging || s.fe.log.dontLogNull {
		return
	}
	s.rec.ReqCaps, s.rec.ResCaps = nil, nil
	s.logMuxError(logging.SFErrCliCl|logging.SFFinstR, 400)
}

// logMuxError logs a request HAProxy's HTTP/1 side refuses before a
// stream carries it (sess_log): with the error-log-format when the
// frontend has one.
func (s *session) logMuxError(flags uint32, status int) {
	if !s.logging && !s.errLogging {
		return
	}
	s.rec.RequestLine = nil
	s.muxLog = true
	s.logStream(flags, status)
	s.muxLog = false
}

// tunnelRecord fills the record of a stream about to become a tunnel (a
// mode tcp stream, an HTTP stream after its protocol switch or CONNECT);
// the tunnel's end completes and sends it, as HAProxy logs a stream once
// it ends.
func (s *session) tunnelRecord(flags uint32, status int) *logging.Record {
	if s.http {
		if s.fe.uniqueFmt != nil && !s.uniqueSet {
			s.UniqueID()
		}
		if s.logRedisp {
			flags |= logging.SFRedisp
		}
	}
	s.fillRecord(flags, status)
	r := s.rec
	// The line is made when the tunnel ends: its samples see the
	// stream's variables, names and addresses as they were then, and
	// none of the buffers, which go on carrying the tunnel's data; what
	// it shows of the session's own buffers is copied.
	t := s.txn
	vars := s.vars.Clone()
	t.Vars = &vars
	t.Buf, t.Req, t.RspBuf, t.Rsp, t.Payload, t.ResPayload, t.Body = nil, nil, nil, nil, nil, nil, nil
	r.Ctx = &t
	r.Scratch = nil
	r.CliCookie, r.SrvCookie = bytes.Clone(r.CliCookie), bytes.Clone(r.SrvCookie)
	r.RequestLine, r.UniqueID = bytes.Clone(r.RequestLine), bytes.Clone(r.UniqueID)
	r.SSLCipher, r.SSLVersion = bytes.Clone(r.SSLCipher), bytes.Clone(r.SSLVersion)
	r.ReqCaps, r.ResCaps = cloneCaps(r.ReqCaps), cloneCaps(r.ResCaps)
	return &r
}

func cloneCaps(c [][]byte) [][]byte {
	if c == nil {
		return nil
	}
	out := make([][]byte, len(c))
	for i, v := range c {
		out[i] = bytes.Clone(v)
	}
	return out
}

// logTCP completes and sends the line of a stream that became a tunnel.
func (te *tunnelEnd) logTCP() {
	te.logTCPAt(false)
}

// logTCPAt is logTCP; early sends the line of "option logasap" when the
// server connection is established, before any byte was relayed.
func (te *tunnelEnd) logTCPAt(early bool) {
	l := te.l.fe.log
	r := te.rec
	r.LogASAP = l.asap
	r.TClose = time.Since(te.start).Milliseconds()
	// An HTTP stream's counts go on with the tunnel's.
	r.BytesIn, r.BytesOut = te.in0+te.t.up.Load()-te.pre, te.out0+te.t.down.Load()
	if early {
		r.TClose, r.BytesIn, r.BytesOut = r.TConnect, 0, 0
	}
	if r.Flags&logging.SFErrMask == 0 {
		switch te.t.timedOut.Load() {
		case 1:
			r.Flags |= logging.SFErrCliTO | logging.SFFinstD
		case 2:
			r.Flags |= logging.SFErrSrvTO | logging.SFFinstD
		case tunnelKilled:
			r.Flags |= logging.SFErrKilled
		case 0:
			switch te.t.failed.Load() {
			case 1:
				r.Flags |= logging.SFErrCliCl | logging.SFFinstD
			case 2:
				r.Flags |= logging.SFErrSrvCl | logging.SFFinstD
			}
		}
	}
	if early {
		r.BeConn = te.be.conns.Load()
	} else {
		r.ActConn = te.e.actconn()
		r.FeConn = te.l.fe.conns.Load()
		r.BeConn = te.be.conns.Load()
		r.SrvConn = 0
		if te.srv != nil {
			r.SrvConn = int64(te.srv.Sessions())
		}
	}
	l.emit(l.format, r, te.logLevel, te.retries, te.http, nil, nil, time.Now())
}

// addConn counts a stream more on the backend (beconn) and its maximum.
func (be *Backend) addConn() {
	n := be.conns.Add(1)
	for m := be.maxConns.Load(); n > m && !be.maxConns.CompareAndSwap(m, n); m = be.maxConns.Load() {
	}
}

// assignBe makes be the stream's backend for its logs and counters,
// counted in its current and total streams (HAProxy's
// stream_set_backend), once.
func (s *session) assignBe(be *Backend) {
	if s.logBe == nil {
		s.logBe = be
		be.addConn()
		be.streams.Add(1)
	}
}

// contFlush adds the bytes the stream moved since the last count to its
// frontend's, listener's, backend's and server's statistics, once it has
// a backend, as option contstats makes HAProxy's stream_process_counters
// do while the stream runs; countStream adds the rest.
func (s *session) contFlush() {
	g := s.e.g
	if s.logBe == nil || g.stats == nil {
		return
	}
	in, out := s.streamBytes()
	din, dout := max(in-s.contDone[0], 0), max(out-s.contDone[1], 0)
	if din == 0 && dout == 0 {
		return
	}
	s.contDone = [2]int64{s.contDone[0] + din, s.contDone[1] + dout}
	g.addStreamBytes(s.fe, s.l, s.logBe, s.logSrv, din, dout)
	if s.tracking() {
		s.stickBytes()
	}
}

// countStream adds the stream that ends to the statistics counters.
func (s *session) countStream(status int) {
	g := s.e.g
	if g.stats == nil {
		return
	}
	in, out := s.streamBytes()
	// What option contstats counted already.
	in, out = max(in-s.contDone[0], 0), max(out-s.contDone[1], 0)
	now := s.lt.endTime()
	fe := g.feCounters(s.fe)
	if !s.feRejected {
		fe.addRequest(now)
	}
	fe.addResponse(status)
	fe.addBytes(in, out)
	if fe != nil && !s.h2Stream {
		// The h1 module counts its socket's bytes.
		fe.h1.bytesIn.Add(uint64(max(s.cl.rbytes-s.lt0Wire[0], 0)))
		fe.h1.bytesOut.Add(uint64(max(s.cl.wbytes-s.lt0Wire[1], 0)))
	}
	var ls *listenerStats
	if s.l != nil && s.l.bind != nil {
		ls = s.l.bind.stats
	}
	if ls != nil {
		ls.bytesIn.Add(uint64(in))
		ls.bytesOut.Add(uint64(out))
	}
	be := s.logBe
	if be == nil {
		if status == 400 || status == 408 {
			fe.addError(errRequest)
			if ls != nil {
				ls.ereq.Add(1)
			}
		}
		return
	}
	bc := g.beCounters(be)
	bc.addSession(now)
	if status != 0 {
		// HAProxy counts a backend's request and response once the
		// stream ends with a status, whoever made it, -1 (none) among
		// the others.
		bc.addRequest(now)
		bc.addResponse(status)
	}
	bc.addBytes(in, out)
	srv := s.logSrv
	sc := g.srvCounters(srv)
	if srv != nil {
		// The server's session was counted when it was connected.
		sc.addBytes(in, out)
		bc.addConnect(s.logReused)
		sc.addConnect(s.logReused)
		if bc != nil && be.HTTP && be.h1Server(srv) {
			// The h1 module counts its server sockets' bytes.
			bc.h1.bytesIn.Add(uint64(max(s.sv.rbytes-s.lt0Sv[0], 0)))
			bc.h1.bytesOut.Add(uint64(max(s.sv.wbytes-s.lt0Sv[1], 0)))
		}
	}
	lt := &s.lt
	d := func(from, to time.Time) time.Duration {
		if from.IsZero() || to.IsZero() {
			return -1
		}
		return to.Sub(from)
	}
	tw, tc, tr, tt := d(lt.request, lt.queue), d(lt.queue, lt.connect), d(lt.connect, lt.rsp), now.Sub(lt.start)
	switch {
	case s.srvStatus != 0 && srv != nil:
		// http_wait_for_response counts the server's answer.
		sc.addRequest(now)
		sc.addResponse(s.srvStatus)
	case status == 503 && srv == nil:
		if s.noServer {
			// SRV_STATUS_NOSRV: a failed connection for the backend.
			bc.addError(errConnect)
		}
	case status == 503, s.txFlags&logging.SFFinstMask == logging.SFFinstC:
		bc.addError(errConnect)
		sc.addError(errConnect)
	case status == 502 || status == 504:
		bc.addError(errResponse)
		sc.addError(errResponse)
	default:
		if srv != nil && status > 0 {
			// A server counts the requests it answered.
			sc.addRequest(now)
			sc.addResponse(status)
		}
	}
	switch s.abort {
	case abortClient:
		bc.addAbort(false)
		sc.addAbort(false)
	case abortServerError:
		bc.addError(errResponse)
		sc.addError(errResponse)
		fallthrough
	case abortServer:
		bc.addAbort(true)
		sc.addAbort(true)
	case failedResponse:
		bc.addError(errResponse)
		sc.addError(errResponse)
	}
	bc.addTimes(tw, tc, tr, tt)
	sc.addTimes(tw, tc, tr, tt)
}

// monitorMatch tells a request for the frontend's monitor-uri: its path
// when the URI given starts with '/', else the whole target.
func (s *session) monitorMatch(head []byte) bool {
	uri := s.req.URI.Of(head)
	m := s.fe.monitorURI
	if string(uri) == m {
		return true
	}
	if m[0] != '/' {
		return false
	}
	if i := bytes.Index(uri, []byte("://")); i >= 0 {
		j := bytes.IndexByte(uri[i+3:], '/')
		if j < 0 {
			return false
		}
		uri = uri[i+3+j:]
	}
	return string(uri) == m
}

// abortPoll is how often a request waiting in a queue with abortonclose
// looks whether its client left.
const abortPoll = 10 * time.Millisecond

// watchClientClose gives a context cancelled once the client closes its
// side while the request waits for a server, as abortonclose asks. The
// socket is only peeked, so it may be watched while the session holds it.
// stop ends the watch and tells whether the client had closed.
func (s *session) watchClientClose(onClose func()) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(context.Background())
	var closed atomic.Bool
	done := make(chan struct{})
	var t *time.Ticker
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Most requests get a server at once: poll only past the first
		// period.
		t = time.NewTicker(abortPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if s.clientClosed() {
					closed.Store(true)
					cancel()
					if onClose != nil {
						onClose()
					}
					return
				}
			}
		}
	}()
	var once sync.Once
	return ctx, func() bool {
		once.Do(func() {
			close(done)
			wg.Wait()
			cancel()
		})
		return closed.Load()
	}
}

// fmtReqLine appends "METHOD URI VERSION" cut to limit bytes, as HAProxy's
// http_fmt_req_line() writes it.
func fmtReqLine(dst []byte, limit int, method, uri, version []byte) []byte {
	start := len(dst)
	dst = append(append(append(append(append(dst, method...), ' '), uri...), ' '), version...)
	if len(dst)-start > limit {
		dst = dst[:start+limit]
	}
	return dst
}

// captureCookie is "capture cookie": the first cookie of the named
// headers whose name starts with the capture's, as "name=value" cut to
// its length (nil when none), as HAProxy keeps txn->cli_cookie and
// srv_cookie. A Set-Cookie header holds one cookie, then attributes.
func (s *session) captureCookie(dst, head []byte, m *h1.Msg, header string) []byte {
	name := s.fe.capCookie
	for _, h := range m.Headers {
		if !h1.EqualFold(h.Name.Of(head), header) {
			continue
		}
		v := h.Value.Of(head)
		for len(v) > 0 {
			part := v
			if i := bytes.IndexByte(v, ';'); i >= 0 {
				part, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
			part = bytes.TrimSpace(part)
			if len(part) >= len(name) && bytes.Equal(part[:len(name)], name) {
				if len(part) > s.fe.capCookieLen {
					part = part[:s.fe.capCookieLen]
				}
				return append(dst, part...)
			}
			if header == "set-cookie" {
				break
			}
		}
	}
	return nil
}

var http20 = []byte("HTTP/2.0")
