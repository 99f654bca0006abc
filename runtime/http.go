package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/logging"
	"io"
	"math"
	"net"
	"net/netip"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/runtime/h1"
)

// HAProxy's tune.http.maxhdr default is 101, and the end of the headers
// takes one of those entries.
const maxHdr = 100

// session is one client connection and the server connection it drives.
type session struct {
	e *Engine
	// link is its place in the engine's sessions, under e.mu.
	link setLink
	l    *listener
	fe   *Frontend
	cl   side
	sv   side
	// svSrv is the server the kept server connection goes to, svBe its
	// backend and svUses the requests it carried; svClean says it is
	// between two exchanges, fit for another request.
	svSrv *backend.Server
	svKey connKey // what, beyond svSrv and the SNI, the connection fits
	// svCounted says the connection counts in its pool's connections in use.
	svCounted bool
	svBe      *Backend
	svUses    int
	svClean   bool
	svConn    atomic.Pointer[net.TCPConn]
	// svSock is svConn for a connection on the engine's own socket.
	svSock atomic.Pointer[sockConn]
	// svUnix is svConn for a server on a unix socket.
	svUnix atomic.Pointer[net.UnixConn]
	// svBridge is the TLS bridge over svConn, svSock or svUnix: closing
	// the socket under it ends only its copy from the server.
	svBridge atomic.Pointer[tlsServerConn]
	// onServer is the server of the request in progress, for
	// on-marked-down to find.
	onServer atomic.Pointer[backend.Server]
	// mu guards idleConns, which a hard stop closes from another goroutine.
	mu        sync.Mutex
	idleConns []idleConn
	// svPrivate says the server connection is the session's own (an
	// NTLM or Negotiate authentication began on it): it never goes to the
	// shared pool. preferLast is then set for the session's later
	// requests (SESS_FL_PREFER_LAST).
	svPrivate, preferLast bool
	svBuf                 *[]byte
	// clBuf and outBuf are the pool buffers under cl.buf and out;
	// svShed: shedBuffers gave svBuf back.
	clBuf, outBuf *[]byte
	svShed        bool
	be            *Backend // the current request's backend
	// Cookie persistence of the current request: the backend's settings,
	// the chosen server's value, whether to insert it in the response.
	ck       *cookieCfg
	ckVal    string
	ckInsert bool
	ckDates  cookieDates
	// ckTx holds the log's cookie flags (TX_CK_*, TX_SCK_*); ckDirect
	// says the request went to its cookie's server.
	ckTx     uint32
	ckDirect bool
	// ckSrvSet is set when the server's response sets the cookie itself.
	ckSrvSet bool
	// rwAlt is the second buffer of rules editing a head in rw or rwr.
	rwAlt []byte
	// vars are the connection's and the stream's variables.
	vars acl.Vars
	// bodyBuf holds a buffered chunked body's data for the body fetches;
	// beAssigned says the stream has its backend (SF_BE_ASSIGNED).
	beAssigned bool
	// feRejected says the frontend's tcp-request content rules rejected
	// the request, which HAProxy does before it counts it.
	feRejected bool
	// abort says what cut the stream's body short (abortClient...).
	abort uint8
	// redisp: a request's connection attempts may end, once
	// redispatched, on an idle connection (allowed); hit says pc is it.
	redisp struct {
		allowed, hit bool
		pc           pooledConn
	}
	// srvStatus is the status of the server's final answer, which the
	// server's counters count whatever the rules make of it.
	srvStatus int
	// noServer says the backend had no server for the request.
	noServer bool
	// ckPrivate says the inserted cookie goes with "Cache-Control:
	// private" (cookie nocache on a cacheable response).
	ckPrivate bool
	// forceClose makes the next answer close the connection.
	forceClose bool
	// clientHEAD: the request came as HEAD, so the answers the proxy
	// makes go without their body (headOnly).
	clientHEAD bool
	// sentHEAD: the request went to the server as HEAD, so its answer
	// has no body, whatever its head says.
	sentHEAD bool
	// bodyWire is the buffered body's length on the wire once known.
	bodyBuf  []byte
	bodyWire int
	// src and dst are the client's addresses when the session runs
	// behind TLS or HTTP/2 on a socket pair.
	src, dst netip.AddrPort
	// tls describes the client's TLS layer for the ssl_* fetches.
	tls *acl.TLSInfo
	// sniBuf holds the server SNI of the current request ("sni").
	sniBuf []byte
	// h2Stream says the session serves one HTTP/2 stream (bridge).
	h2Stream bool
	// rw and rwr hold heads rewritten by legacy filters.
	rw, rwr    []byte
	rwBufs     []*[]byte
	denyStatus int
	// perr is the request head's parse error, found while reading it.
	perr error
	// co is the chunked re-framing state of the body in progress.
	co *chunkOut
	// bodyDone says the request body was read whole.
	bodyDone bool
	// chunkedDone says a chunked request body is buffered to the end of
	// its trailers: it goes out with the head, in one write.
	chunkedDone bool
	// linger asks for a lingering close (see refuse).
	linger bool
	out    []byte
	name   []byte
	// parkedTxn is kept while the connection is parked (parkConn).
	parkedTxn parkedTxn
	reqs      int
	idle      atomic.Bool
	// rawFD is the client descriptor while the session runs inside the
	// client's readiness wait (see serveHTTP), -1 otherwise; inRaw says
	// the same to other goroutines.
	rawFD int
	inRaw atomic.Bool
	// The head being read: whether it started, and its deadline.
	hdActive, hdStarted bool
	// waited says the readiness wait returned on an event; turn is
	// where the session waits for its turn after one (see readyOrder).
	waited     bool
	hdDeadline time.Time
	// next is a parsed head to serve outside the readiness wait.
	next int
	turn chan struct{}
	// slot says the session holds its listener's connection slot, which
	// finish releases; handedOff that a tunnel took the connections;
	// parked that the connection parked (park.go): resumeParked goes on.
	slot   bool
	parked bool
	// waitEnd: ended is told when the session, or the tunnel it became,
	// ends (serveConn waits for it).
	waitEnd   bool
	ended     sync.WaitGroup
	handedOff bool
	// Logging of the stream in progress (logs.go): logging is set when
	// the frontend logs streams; lt holds its instants (the record is
	// the scratch's rec); lt0In and lt0Out the client byte counts at its
	// start (htxIn, htxOut), lt0Wire the socket's, lt0Sv the server
	// side's.
	logging bool
	// errLogging: the frontend has an error-log-format and somewhere to
	// send it; muxLog is set while such a line is made.
	errLogging, muxLog bool
	track              bool
	logApplet          string
	noLog              bool
	// logLevel is set-log-level's: 0 when unset, -1 for silent, the
	// level plus one otherwise (HAProxy's encoding).
	logLevel int
	// edVals holds the values the http rules rendered into the head
	// they edit (the scratch's ed).
	edVals []byte
	// edPend is what the edits not yet written to the head change.
	edPend acl.Reads
	// reqBodyHTX and rspBodyHTX are the body data HAProxy would hold
	// with the heads as read (bodyHTX); rspHL is the response head's
	// length as read, rspBodyBuf what waitResponseBody decoded.
	reqBodyHTX, rspBodyHTX, rspHL int
	rspBodyBuf                    []byte
	// uniqueID is the stream's unique id once uniqueSet (UniqueID).
	uniqueID  []byte
	uniqueSet bool
	// sessSrc and its kin are the addresses once the connection and
	// session rules ran, where each HTTP stream starts.
	sessSrc, sessDst, sessConnSrc, sessConnDst netip.AddrPort
	// sslv and sslc are the TLS version and cipher as logged.
	sslv, sslc []byte
	// bridged is a session on a socket pair (TLS, HTTP/2): a PROXY
	// header was read, when one was expected, on the real connection.
	bridged bool
	// scope is what the connection's rules left, when they ran before
	// the session (connscope.go).
	scope *connScope
	// counted says the session counts its connection (countConn); an
	// HTTP/2 stream does not.
	counted bool
	// expectCIP and expectPP say the connection starts with a NetScaler
	// Client IP header, a PROXY header: its bind's, or its rules' asking.
	expectCIP, expectPP bool
	// hints holds the 103 answer of an early-hint rule.
	hints []byte
	// toServer and toTunnel are set-timeout's, 0 when unset.
	toServer, toTunnel time.Duration
	lt0In              int64
	lt0Out             int64
	lt0Wire            [2]int64
	// contDone is what option contstats counted of the stream's bytes
	// (in, out) before it ends.
	contDone   [2]int64
	lt0Sv      [2]int64
	logBe      *Backend
	logSrv     *backend.Server
	logSrvAddr netip.AddrPort
	logSrcAddr netip.AddrPort
	logRetries int
	// logRedisp says a retry went to another server (the log's "+").
	logRedisp bool
	// noL7Retry is "http-request disable-l7-retry".
	noL7Retry bool
	// rspFail is why the last readResponse failed.
	rspFail   rspFailure
	logReused bool
	logUniq   uint32
	// uniqPending: the stream's number (logUniq, %rt, HAProxy's
	// req_count) is taken once the stream exists, as HAProxy makes an
	// HTTP/1 connection's streams with their requests (takeUniq): a
	// connection closed after its answers takes no number more.
	uniqPending bool
	txStatus    int
	txFlags     uint32
	// rspWire and rspHTX are the response head's size as written and
	// as HAProxy's message holds it (htxHeadSize); reqWire and reqHTX
	// the request head's, as read.
	rspWire, rspHTX int
	reqWire, reqHTX int
	// rspPre is what a server's answer that the proxy's own replaced
	// counted (bout, %B).
	rspPre     int
	logBuf     []byte
	logSD      []byte
	logReqLine []byte
	// h2Origin is an HTTP/2 request's "scheme://authority", which its
	// logged request line shows before the path, as HAProxy's.
	h2Origin string
	// h2SchemeHTTP: the HTTP/2 request's :scheme is http.
	h2SchemeHTTP bool
	// rspH2 says the answer being read or sent came from an HTTP/2
	// server (its connection may be detached before the head goes).
	rspH2 bool
	// rspRechunk: a response rule removed the length of an answer with a
	// body (HAProxy keeps its framing, and its HTTP/1 side chunks it).
	rspRechunk bool
	// reqRechunk: a request rule removed the length of a body, which
	// then goes chunked to the server.
	reqRechunk bool
	// rspDropBody: a rule gave the answer a status without a body; the
	// server's is read and dropped.
	rspDropBody bool
	// cliConn is the request's Connection as the client sent it, before
	// rules edited the head (cliConnSet): HAProxy's client side decides
	// on the head it parsed, its server side on the head it sends.
	cliConn    uint8
	cliConnSet bool
	// reqPre is the parse of an HTTP/2 stream's request head, made as
	// the stream wrote it (h2.Stream.Head), taken by the first rawHead.
	reqPre *h1.Msg
	logURI []byte
	// resolveBuf holds the name do-resolve looks up.
	resolveBuf []byte
	// inspectEnd is when the running tcp-request content inspection ends,
	// zero without inspect-delay.
	inspectEnd time.Time
	// curRule is the rule runRules is at.
	curRule *httpRule
	// http says the stream is served as HTTP: its frontend's mode, or
	// a TCP stream switched to HTTP (switchHTTP, switchProto: switch-mode
	// http [proto P]; upgraded until its first request is taken).
	http, switchHTTP, upgraded bool
	switchProto                string
	// h2Pre holds what came with an HTTP/2 preface on an HTTP/1 bind.
	h2Pre []byte
	// bodyAborted: the client closed while its body was waited for.
	bodyAborted bool
	// reqLeft is what remains of a request body with a length; reqCS
	// the chunk scanner of one stopped by an early answer.
	reqLeft   int64
	reqCS     chunkScanner
	capBuf    []byte
	capRspBuf []byte
	// capCliCk and capSrvCk hold the captured cookies (capture cookie).
	capCliCk, capSrvCk []byte
	// tr is the stream's trace filters (trace.go), nil without any.
	tr *traceStream
	// pps is what the PROXY header of the connection carried
	// (proxy_protocol.go).
	pps ppState
	// stk is the stick-table state of the connection and its stream.
	stk stickSession
	// strm is the stream "show sess" lists (streams.go).
	strm streamMark
	// prst is the stream's force-persist or ignore-persist (0: none).
	prst uint8
	// stepFn is serveHTTP's readiness callback and keep what it says
	// of the connection; like the sides' callbacks, it is bound to the
	// session object, made once and kept when the session is recycled.
	stepFn func(uintptr) bool
	keep   bool
	// killed says the CLI shut the stream down (shutdown session(s)).
	killed atomic.Bool
	// pins counts the killers that took the session from the engine's
	// list and may still act on it: a pinned session is not recycled.
	pins atomic.Int32
	// handing says the connections are going to a tunnel, tun that
	// tunnel once it runs: a kill from then on is the tunnel's.
	handing atomic.Bool
	tun     atomic.Pointer[tunnel]
	// cc is the client's connection when it is TCP (cliConn).
	cc cliConn
	*streamScratch
}

// streamScratch is the state of a session's transaction in progress,
// apart from the session: a parked connection (park.go) gives it up,
// the largest part of its session, and takes a cleared one when its
// client comes back. What of it lasts from one transaction to the next
// (parts of txn, the next stream's start) it sets again then
// (restoreTxn).
type streamScratch struct {
	// used marks the sections that most streams never write (scratch*
	// bits) once one may hold something: clear skips the others, as
	// writing zeros over a line a stream never touched would fetch it
	// from memory, one of the costs of a stream's first byte.
	used uint8
	// txn is what the fetches and rules see of the transaction.
	txn acl.Txn
	// lt are the stream's clock readings; a parked connection keeps its
	// start.
	lt logTimes
	// headAt is the clock reading taken at the first read of a head,
	// and headAtW the bytes buffered with that read.
	headAt   time.Time
	headAtW  int
	req, rsp h1.Msg
	// amsg holds an answer the proxy makes, for http-after-response.
	amsg h1.Msg
	// dialer is connectServer's, set for each connection it makes.
	dialer net.Dialer
	// ed is the head that http rules edit.
	ed msgEdit
	// rec is the log line's record.
	rec logging.Record
	// legacy is what reqsetbe and reqtarpit decided for the request.
	legacy legacyResult
	// zs is the transaction's compression (compress.go).
	zs compState
	// cch is the caching of the transaction (cache.go).
	cch cacheState
	// The header tables of req and rsp, while they hold a usual head:
	// a new connection's messages then allocate nothing.
	reqHdrs, rspHdrs [12]h1.Header
	// ph is the response head handed to an HTTP/2 stream (handHead).
	ph parsedHead
}

// Sections of streamScratch that clear leaves alone unless marked used.
const (
	scratchAmsg = 1 << iota
	scratchDialer
	scratchEd
	scratchRec
	scratchComp
	scratchCache
	scratchLegacy
)

// clear zeroes the scratch but the sections its stream left alone, and
// reqHdrs and rspHdrs: they hold offsets only, which a head's parse
// writes before anything reads them.
func (sc *streamScratch) clear() {
	used := sc.used
	sc.used = 0
	sc.txn = acl.Txn{}
	sc.lt = logTimes{}
	sc.headAt, sc.headAtW = time.Time{}, 0
	sc.req, sc.rsp = h1.Msg{}, h1.Msg{}
	if used&scratchAmsg != 0 {
		sc.amsg = h1.Msg{}
	}
	if used&scratchDialer != 0 {
		sc.dialer = net.Dialer{}
	}
	if used&scratchEd != 0 {
		sc.ed = msgEdit{}
	}
	if used&scratchRec != 0 {
		sc.rec = logging.Record{}
	}
	if used&scratchLegacy != 0 {
		sc.legacy = legacyResult{}
	}
	if used&scratchComp != 0 {
		sc.zs = compState{}
	}
	if used&scratchCache != 0 {
		sc.cch = cacheState{}
	}
	sc.ph = parsedHead{}
	if verifyScratchClear {
		sc.verifyClear()
	}
}

// verifyScratchClear makes clear check that it left the scratch zero (the
// header tables aside): a section written without its used mark would
// pass its values to a later stream. The tests set it.
var verifyScratchClear bool

func (sc *streamScratch) verifyClear() {
	b := unsafe.Slice((*byte)(unsafe.Pointer(sc)), unsafe.Sizeof(*sc))
	skip0, skip1 := unsafe.Offsetof(sc.reqHdrs), unsafe.Offsetof(sc.rspHdrs)+unsafe.Sizeof(sc.rspHdrs)
	for i, c := range b {
		if c != 0 && (uintptr(i) < skip0 || uintptr(i) >= skip1) {
			panic(fmt.Sprintf("streamScratch byte %d left set by clear", i))
		}
	}
}

// scratchPool keeps the scratches parked connections gave up.
var scratchPool = sync.Pool{New: func() any { return new(streamScratch) }}

// takeScratch gives the session a cleared scratch.
func (s *session) takeScratch() {
	s.streamScratch = scratchPool.Get().(*streamScratch)
	s.req.Headers, s.rsp.Headers = s.reqHdrs[:0], s.rspHdrs[:0]
}

// dropScratch gives the session's scratch back, cleared.
func (s *session) dropScratch() {
	s.streamScratch.clear()
	scratchPool.Put(s.streamScratch)
	s.streamScratch = nil
}

func newSession(e *Engine, l *listener, c netConn) *session {
	var s *session
	if m, ok := c.(*memConn); ok && m.sm != nil && m.sm.sess != nil {
		s, m.sm.sess = m.sm.sess, nil
	} else {
		s = sessionPool.Get().(*session)
	}
	s.e, s.l, s.fe, s.cl.c, s.rawFD = e, l, l.fe, c, -1
	s.cl.procOut, s.sv.procOut = &e.g.bytesOut, &e.g.bytesOut
	if s.streamScratch == nil {
		s.takeScratch()
	} else {
		s.req.Headers, s.rsp.Headers = s.reqHdrs[:0], s.rspHdrs[:0]
	}
	if tc, ok := c.(*net.TCPConn); ok && s.cc.init(tc) == nil {
		s.cl.c = &s.cc
	}
	if _, mem := c.(*memConn); e.order != nil && !mem {
		s.turn = make(chan struct{}, 1)
		s.cl.order, s.cl.sess = e.order, s
		s.sv.order, s.sv.sess = e.order, s
	}
	return s
}

// sessionPool keeps the sessions that ended for the next connections
// and HTTP/2 streams: a session and its scratch are 7 KiB, and
// allocating them per stream made the collector run every few hundred
// streams.
var sessionPool = sync.Pool{New: func() any { return new(session) }}

// releaseVars gives back what the session's variables count towards
// the session's and the process's tune.vars limits (the sess ones of an
// HTTP/2 stream are its connection's, released with it).
func (s *session) releaseVars() {
	if s.e == nil || s.e.varLimits == nil || s.txn.Vars != &s.vars {
		return
	}
	s.txn.ClearVars(acl.ScopeSess, acl.ScopeTxn, acl.ScopeReq, acl.ScopeRes)
}

// recycle gives an ended session back to sessionPool, cleared. Only its
// goroutine calls it, once the session is off the engine's list and
// whatever it started has returned; a session still pinned by a killer,
// or one that became a tunnel or waits in ready order, is left to the
// collector. It reports whether the session went back to the pool:
// nothing else holds it, nor the connection it was given.
func (s *session) recycle() bool {
	if s.pins.Load() != 0 || s.turn != nil || s.handing.Load() {
		return false
	}
	s.releaseVars()
	step, cl, sv, sc := s.stepFn, s.cl.callbacks(), s.sv.callbacks(), s.streamScratch
	var sm *streamConn
	if m, ok := s.cl.c.(*memConn); ok {
		sm = m.sm
	}
	*s = session{}
	if sc != nil {
		sc.clear()
	}
	s.stepFn, s.streamScratch = step, sc
	s.cl.setCallbacks(cl)
	s.sv.setCallbacks(sv)
	if sm != nil && sm.sess == nil {
		// The stream's next use runs it (newSession).
		sm.sess = s
	} else {
		sessionPool.Put(s)
	}
	return true
}

func (s *session) wakeIfIdle() {
	if s.idle.Load() && !s.fe.keepIdle && !s.e.g.closeSpreadInf {
		s.cl.c.SetReadDeadline(s.e.stopIdleDeadline(time.Time{}))
	}
}

// shutdownStream is the CLI's stream_shutdown(SF_ERR_KILLED): a stream
// on a server loses its server connection, so that a request waiting for
// its answer gets HAProxy's 502, and its log says it was killed; any
// other is closed.
func (s *session) shutdownStream() {
	s.killed.Store(true)
	if s.handing.Load() {
		// handOff kills the tunnel once it runs, unless this does.
		if t := s.tun.Load(); t != nil {
			killTunnel(t)
		}
		return
	}
	if s.onServer.Load() == nil || s.idle.Load() {
		// No request in progress: the client goes.
		s.kill()
		return
	}
	s.closeServerSocks()
}

// closeServerSocks closes the server connection under the session.
func (s *session) closeServerSocks() {
	if c := s.svConn.Load(); c != nil {
		c.Close()
	}
	if c := s.svSock.Load(); c != nil {
		c.Close()
	}
	if c := s.svUnix.Load(); c != nil {
		c.Close()
	}
}

func (s *session) kill() {
	setLinger0(s.cl.c)
	if m, ok := s.cl.c.(*memConn); ok {
		// An HTTP/2 stream's Close waits for a write in progress:
		// the socket under a TLS connection goes at once, the rest
		// after.
		m.abort()
		s.closeServerSocks()
		s.closeIdle()
		return
	}
	raw := s.inRaw.Load()
	if raw {
		// Close waits for the session to leave the client's readiness
		// wait, which may still be waiting in a queue: the socket is
		// shut at once, so nothing more goes to the client, and closed
		// once the session lets go.
		if rc, err := s.cl.c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_RDWR) })
		}
	} else {
		s.cl.c.Close()
	}
	s.closeServerSocks()
	s.closeIdle()
	if raw {
		// The connection itself, not the session's wrapper: the
		// session may be recycled before this runs.
		var c io.Closer = s.cl.c
		if cc, ok := c.(*cliConn); ok {
			c = cc.TCPConn
		}
		go c.Close()
	}
}

// linkTxn points the transaction state at what the session holds for
// all its transactions: its TLS connection, its HTTP/2 origin, its
// variables and the process's, itself as the fetches' environment.
func (s *session) linkTxn() {
	s.rspH2, s.rspRechunk, s.reqRechunk, s.cliConnSet, s.rspDropBody = false, false, false, false, false
	t := &s.txn
	t.TLS, t.Origin = s.tls, s.h2Origin
	t.Vars, t.Proc, t.ProcMu, t.Env = &s.vars, &s.e.procVars, &s.e.procMu, s
	t.VarLimits = s.e.varLimits
	if sc := s.scope; sc != nil && s.h2Stream {
		t.Sess, t.SessMu = sc.vars, &sc.mu
	}
}

// run serves the connection. It reports whether the connections were
// handed to a tunnel, which then ends the session's bookkeeping.
func (s *session) run() bool {
	// An HTTP/2 stream is an HTTP one, also on a TCP frontend that
	// switched to HTTP.
	s.http = s.fe.HTTP || s.h2Stream
	if s.fe.contStats {
		s.cl.cont, s.sv.cont = s, s
	}
	bp := s.fe.pool.get()
	s.clBuf = bp
	s.cl.buf = *bp
	s.cl.wto = s.fe.Client
	s.cl.timeout = s.fe.Client
	if s.fe.noLinger {
		setLinger0(s.cl.c)
	}
	s.linkTxn()
	s.txn.Src, s.txn.Dst = s.src, s.dst
	if !s.src.IsValid() {
		if sc, ok := s.cl.c.(*sockConn); ok {
			s.txn.Src, s.txn.Dst = sc.addrs()
		} else {
			s.txn.Src = addrPort(s.cl.c.RemoteAddr())
			s.txn.Dst = addrPort(s.cl.c.LocalAddr())
		}
	}
	if !s.bridged {
		s.pps.ns = s.l.bind.NetNS
	}
	if !s.h2Stream {
		// feconn counts the connection from its accept, its rules'
		// rejection included (listener_accept); an HTTP/2 stream's
		// connection is counted once (front).
		s.e.countConn(s.fe)
		s.counted = true
	}
	if s.scope != nil {
		s.adoptScope()
	} else if r := &s.fe.tcp; len(r.conn)+len(r.sess) > 0 || s.l.bind.AcceptProxy || s.l.bind.AcceptCIP {
		// Rejected at layer 4 or 5: no stream, so no log line. The
		// headers come between the two, as HAProxy's handshake.
		s.expectCIP, s.expectPP = s.l.bind.AcceptCIP, s.l.bind.AcceptProxy
		rejected := s.runTCPRules(r.conn, nil, false, nil) == tcpReject
		// A header that failed ends with a reset only when bytes were
		// left unread, as HAProxy, which peeks at them, leaves them.
		fin := false
		if !rejected && (s.expectCIP || s.expectPP) && !s.bridged && !s.acceptHeaders(s.expectCIP, s.expectPP) {
			rejected, fin = true, s.cl.r == s.cl.w
		}
		if rejected || s.runTCPRules(r.sess, nil, false, nil) == tcpReject {
			s.releaseSessTrack()
			if !fin {
				setLinger0(s.cl.c)
			}
			s.cl.c.Close()
			s.fe.pool.put(bp)
			s.clBuf = nil
			s.txn.ClearVars(acl.ScopeSess, acl.ScopeTxn, acl.ScopeReq, acl.ScopeRes)
			s.uncountConn()
			return false
		}
	}
	// Each HTTP stream starts from the session's addresses: what its own
	// rules change (set-src...) ends with it.
	s.sessSrc, s.sessDst, s.sessConnSrc, s.sessConnDst = s.txn.Src, s.txn.Dst, s.txn.ConnSrc, s.txn.ConnDst
	defer func() {
		if !s.parked {
			s.uncountConn()
		}
	}()
	if l := s.fe.log; l != nil {
		s.logging = l.format != nil && l.logger != nil
		s.errLogging = l.errFormat != nil && l.logger != nil
		if !s.http {
			// A TCP stream starts with the connection; an HTTP one
			// with each request (parse).
			s.logConnect()
		}
	}
	s.resetNice()
	// Timers and counts of each stream, for the log and the statistics.
	s.track = s.logging || s.errLogging || s.e.g.stats != nil
	if s.track {
		now := s.strm.start
		if !s.bridged {
			// A socket's session may have waited for a goroutine since
			// it was marked; serveConn runs its own at once.
			now = readingAfter(now)
		}
		s.beginStream(now)
		if !s.http || s.h2Stream {
			// A TCP stream comes with its connection, an HTTP/2 one
			// with its request; an HTTP/1 connection's with its
			// request's head (transaction) or the error that ends it,
			// and none with an HTTP/2 preface.
			s.takeUniq()
		}
		if !s.h2Stream {
			// An HTTP/2 connection is one session (front).
			s.e.g.feCounters(s.fe).addFeSession(now)
		}
	}
	defer func() {
		if !s.parked {
			s.endRun()
		}
	}()
	s.txn.HTX, s.txn.H2 = s.http, s.h2Stream
	if !s.http {
		s.runTCP()
		return s.handedOff
	}
	if !s.h2Stream {
		// The h1 module's count of the frontend's connections.
		s.e.g.feCounters(s.fe).h1Conn(1)
	}
	s.outBuf = s.fe.pool.get()
	s.out = (*s.outBuf)[:0]
	s.serveHTTP()
	if !s.parked {
		s.endHTTP()
	}
	return s.handedOff
}

// endHTTP ends what run began for an HTTP session; endRun and
// uncountConn follow.
func (s *session) endHTTP() {
	s.putOutBuf()
	if !s.h2Stream {
		s.e.g.feCounters(s.fe).h1Conn(-1)
	}
}

// uncountConn takes the connection out of the counts; a tunnel counts
// it until it ends.
func (s *session) uncountConn() {
	if !s.handedOff && s.counted {
		s.e.uncountConn(s.fe)
		s.counted = false
	}
}

// countConn counts a connection served by fe (actconn, feconn, smax).
func (e *Engine) countConn(fe *Frontend) {
	e.conns.Add(1)
	n := fe.conns.Add(1)
	for m := fe.maxConns.Load(); n > m && !fe.maxConns.CompareAndSwap(m, n); m = fe.maxConns.Load() {
	}
}

// uncountConn takes back what countConn counted.
func (e *Engine) uncountConn(fe *Frontend) {
	e.conns.Add(-1)
	fe.conns.Add(-1)
}

// endRun closes what run leaves open and gives back its buffers.
func (s *session) endRun() {
	if !s.handedOff {
		s.releaseServer()
		if s.linger && !s.e.stopping.Load() {
			s.lingerClose()
		}
		s.cl.c.Close()
	}
	s.releaseIdle()
	if s.clBuf != nil {
		s.fe.pool.put(s.clBuf)
		s.clBuf = nil
	}
	if s.svBuf != nil {
		s.fe.pool.put(s.svBuf)
	}
	for _, b := range s.rwBufs {
		s.fe.pool.put(b)
	}
	if !s.handedOff {
		s.stickStreamEnd(0)
		s.releaseSessTrack()
	}
	s.rw, s.rwr, s.rwAlt, s.rwBufs = nil, nil, nil, nil
	s.out, s.cl.buf, s.sv.buf = nil, nil, nil
	if s.handedOff {
		// Nothing of the HTTP state is needed by a tunnel. A session
		// that ends here is cleared whole when it is recycled.
		s.req, s.rsp, s.txn = h1.Msg{}, h1.Msg{}, acl.Txn{}
	}
}

func (s *session) putOutBuf() {
	if s.outBuf != nil {
		s.fe.pool.put(s.outBuf)
		s.outBuf = nil
	}
}

// shedBuffers gives the buffers of a session waiting, empty, for its
// client's next request back to the pool, as HAProxy frees empty
// buffers: an idle connection or HTTP/2 stream then holds none. The
// pool's round trip per request is repaid: the next request is read into
// a buffer just used, still in the CPU's cache, not into the session's
// own, cold after the other sessions' requests.
func (s *session) shedBuffers() {
	cl := &s.cl
	if cl.w != 0 || s.clBuf == nil {
		return
	}
	if cl.m != nil {
		cl.m.want = nil
	}
	s.fe.pool.put(s.clBuf)
	s.clBuf, cl.buf, cl.r = nil, nil, 0
	s.putOutBuf()
	s.out = nil
	if s.svBuf != nil && s.sv.r == s.sv.w {
		s.fe.pool.put(s.svBuf)
		s.svBuf, s.sv.buf, s.sv.r, s.sv.w = nil, nil, 0, 0
		s.svShed = true
	}
}

// takeBuffers takes back what shedBuffers gave.
func (s *session) takeBuffers() {
	s.clBuf = s.fe.pool.get()
	s.cl.buf = *s.clBuf
	if s.outBuf == nil {
		s.outBuf = s.fe.pool.get()
		s.out = (*s.outBuf)[:0]
	}
	if s.svShed {
		s.svShed = false
		s.svBuf = s.fe.pool.get()
		s.sv.buf = *s.svBuf
	}
}

// upgradeHTTP turns a TCP stream into an HTTP one, as HAProxy does on
// switch-mode http or when a TCP frontend hands it to an HTTP backend:
// what the inspection read is its first request, which the frontend's
// content rules have already seen.
func (s *session) upgradeHTTP() {
	if s.l.bind.Proto == "none" || s.switchProto == "none" {
		// No HTTP layer on a "proto none" bind: the stream is aborted.
		return
	}
	s.http, s.txn.HTX, s.upgraded = true, true, true
	s.txn.Req, s.txn.Buf = &s.req, nil
	s.outBuf = s.fe.pool.get()
	s.out = (*s.outBuf)[:0]
	defer s.putOutBuf()
	if s.switchProto == "h2" {
		s.serveH2(append([]byte(nil), s.cl.buf[s.cl.r:s.cl.w]...))
		return
	}
	s.serveHTTP()
}

// lbKey computes what a hash algorithm balances on, as HAProxy's
// get_server_sh/uh/hh/ph do; head is nil in mode tcp.
func (s *session) lbKey(be *Backend, head []byte) backend.Key {
	k := s.lbKeyRaw(be, head)
	k.PrioClass, k.PrioOffset = s.txn.PrioClass, s.txn.PrioOffset
	if st := s.sv.h2st; st != nil {
		k.Waiter = st
	}
	if k.Valid && be.avalanche {
		k.Hash = backend.FullHash(k.Hash)
	}
	return k
}

func (s *session) lbKeyRaw(be *Backend, head []byte) backend.Key {
	switch be.LB.Algo {
	case backend.Source:
		return backend.Key{Hash: backend.SourceHash(s.txn.Src.Addr()), Valid: true}
	case backend.URI:
		if head == nil {
			return backend.Key{}
		}
		uri := s.req.URI.Of(head)
		if be.uriPathOnly && len(uri) > 0 && uri[0] != '/' {
			if i := indexOf(uri, "://"); i >= 0 {
				rest := uri[i+3:]
				j := 0
				for j < len(rest) && rest[j] != '/' {
					j++
				}
				uri = rest[j:]
			}
		}
		if be.uriLen > 0 && len(uri) > be.uriLen {
			uri = uri[:be.uriLen]
		}
		end, slashes := 0, 0
		for ; end < len(uri); end++ {
			c := uri[end]
			if c == '/' {
				slashes++
				if slashes == be.uriDepth+1 && be.uriDepth > 0 {
					break
				}
			} else if c == '?' && !be.uriWhole {
				break
			}
		}
		return backend.Key{Hash: be.hashFn.Sum(uri[:end]), Valid: true}
	case backend.Hdr:
		if head == nil {
			return backend.Key{}
		}
		for _, h := range s.req.Headers {
			if h1.EqualFold(h.Name.Of(head), be.hashName) {
				v, _, _ := nextToken(h.Value.Of(head))
				if len(v) == 0 {
					return backend.Key{}
				}
				if be.domainOnly {
					v = mainDomain(v)
				}
				return backend.Key{Hash: be.hashFn.Sum(v), Valid: true}
			}
		}
	case backend.RDPCookie:
		if v, ok := rdpCookie(s.cl.buf[s.cl.r:s.cl.w], be.hashName); ok == rdpFound && len(v) > 0 {
			return backend.Key{Hash: be.hashFn.Sum(v), Valid: true}
		}
	case backend.URLParam:
		if head == nil {
			return backend.Key{}
		}
		uri := s.req.URI.Of(head)
		q := indexOf(uri, "?")
		if q < 0 {
			return backend.Key{}
		}
		for rest := uri[q+1:]; len(rest) > 0; {
			part := rest
			if i := indexOf(rest, "&"); i >= 0 {
				part, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			if len(part) > len(be.hashName) && string(part[:len(be.hashName)]) == be.hashName && part[len(be.hashName)] == '=' {
				return backend.Key{Hash: be.hashFn.Sum(part[len(be.hashName)+1:]), Valid: true}
			}
		}
	}
	return backend.Key{}
}

// mainDomain is what "hdr(name) use_domain_only" hashes: the label
// before the last dot ("example" of "www.example.com"), or the whole
// value without a dot, scanned from the end as HAProxy does.
func mainDomain(v []byte) []byte {
	end, i, inDomain := len(v), len(v), false
	for ; i > 0; i-- {
		if inDomain {
			if v[i-1] == '.' {
				break
			}
		} else if i < len(v) && v[i] == '.' {
			end, inDomain = i, true
		}
	}
	return v[i:end]
}

func indexOf(b []byte, sub string) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

// handOff gives both connections to a tunnel; the session ends here and
// the tunnel takes its place in the engine until it is over.
func (s *session) handOff(c netConn, cfg tunnelCfg, be *Backend, srv *backend.Server, toServer, toClient []byte) {
	s.handing.Store(true)
	te := &tunnelEnd{e: s.e, l: s.l, be: be, srv: srv, slot: s.slot, counted: s.counted}
	if s.http {
		te.pre = int64(len(toServer))
	}
	if !s.http || s.logBe == nil {
		// A mode tcp stream counts on its backend from here until the
		// tunnel ends; an HTTP stream already does (assignBe).
		be.addConn()
	}
	if s.waitEnd {
		te.ended = &s.ended
	}
	switch {
	case !s.logging || s.noLog:
	case !s.http:
		te.rec, te.start = s.tunnelRecord(0, 0), s.lt.start
	case !s.fe.log.asap:
		// The HTTP stream is logged when its tunnel ends, not now.
		te.rec, te.start, te.http = s.tunnelRecord(s.txFlags, s.rsp.Status), s.lt.start, true
		te.in0, te.out0 = te.rec.BytesIn, te.rec.BytesOut
		s.noLog = true
	}
	if te.rec != nil {
		te.logLevel, te.retries = s.logLevel, s.logRetries
	}
	te.track = s.stickHandOff()
	if lim := s.e.varLimits; lim != nil {
		// The variables live on with the stream: their bytes stay counted
		// until the tunnel ends.
		t := &acl.Txn{Proc: &s.e.procVars, Sess: s.txn.Sess, SessMu: s.txn.SessMu, VarLimits: lim}
		held := s.vars.Clone()
		t.Vars, s.vars = &held, acl.Vars{}
		te.vars = t
	}
	cl := s.cl.c
	if cc, ok := cl.(*cliConn); ok {
		cl = cc.release()
	}
	t := newTunnel(cl, c, cfg, te.run)
	t.srv = srv
	t.out = &s.e.g.bytesOut
	if s.tracing() && s.tr.mode == "TCP" {
		s.traceTunnel(t)
	}
	te.t = t
	if s.fe.contStats {
		// Once te is whole: the ticks read it.
		te.startCont()
	}
	te.logASAP()
	s.e.handOff(s, t)
	s.handedOff = true
	s.setSvSock(nil)
	t.start(toServer, toClient)
	// A "shutdown session" that reached the stream while it became a
	// tunnel ends the tunnel as killed, and logs so: either this or
	// shutdownStream sees the other's store.
	s.tun.Store(t)
	if s.killed.Load() {
		killTunnel(t)
	}
}

// resetServer closes the server connection of a finished exchange with a
// reset (resetClose).
func (s *session) resetServer() {
	if s.sv.c != nil {
		setLinger0(s.sv.c)
	}
	s.closeServer()
}

func (s *session) closeServer() {
	if c := s.svConn.Swap(nil); c != nil {
		c.Close()
	}
	if c := s.svSock.Swap(nil); c != nil {
		c.Close()
	}
	if c := s.svUnix.Swap(nil); c != nil {
		c.Close()
	}
	if c := s.svBridge.Swap(nil); c != nil {
		c.Close()
	}
	s.onServer.Store(nil)
	s.sv.setConn(nil, nil)
	s.uncountServer()
	s.svSrv, s.svBe, s.svClean, s.svPrivate = nil, nil, false, false
}

// uncountServer ends the count of the server connection as in use.
func (s *session) uncountServer() {
	if s.svCounted {
		s.svCounted = false
		s.svBe.idle.unuse(s.svSrv)
	}
}

// sharedServer tells whether the session's server connection may serve
// other clients. As HAProxy's H1 mux detaches a stream, such a
// connection goes to its server's idle list as the transaction ends,
// before the client sees the end of a bodyless answer: another client
// may take it before this one's next request.
func (s *session) sharedServer() bool {
	return s.sv.c != nil && s.svBe != nil && s.svBe.reuseOf(s.svSrv) != reuseNever && !s.svPrivate
}

// releaseServer ends the session's use of its server connection: a
// clean one goes to its backend's idle pool unless http-reuse is never.
func (s *session) releaseServer() { s.releaseServerAs(!s.FirstRequest(), false) }

// releaseServerAs is releaseServer for a connection whose last request
// was not its client's first when safe is set; stays says the client
// stays connected (see idlePool.put).
func (s *session) releaseServerAs(safe, stays bool) {
	be := s.svBe
	if !s.svClean || s.sv.c == nil || be == nil {
		s.closeServer()
		return
	}
	if be.reuseOf(s.svSrv) == reuseNever || s.svPrivate || s.e.stopping.Load() || s.sv.raw() != nil {
		s.resetServer()
		return
	}
	be.idle.put(s.svSrv, pooledConn{c: s.sv.c, rc: s.sv.rc, key: s.svKey, uses: s.svUses, safe: safe, counted: s.svCounted}, stays)
	s.svCounted = false
	s.setSvSock(nil)
	s.onServer.Store(nil)
	s.sv.setConn(nil, nil)
	s.uncountServer()
	s.svSrv, s.svBe, s.svClean = nil, nil, false
}

// releaseIdle gives the session's idle server connections to their
// backends' pools, or closes them.
func (s *session) releaseIdle() {
	s.mu.Lock()
	for _, ic := range s.idleConns {
		if ic.be.reuseOf(ic.srv) == reuseNever || ic.private || s.e.stopping.Load() {
			resetClose(ic.c)
		} else {
			ic.be.idle.put(ic.srv, pooledConn{c: ic.c, rc: ic.rc, key: ic.key, uses: ic.uses, safe: !s.FirstRequest()}, false)
		}
	}
	s.idleConns = s.idleConns[:0]
	s.mu.Unlock()
}

// idleConn is a kept server connection waiting for the session's next
// request to its server: with roundrobin, consecutive requests of one
// client go to different servers, and each keeps its connection.
type idleConn struct {
	srv  *backend.Server
	be   *Backend
	c    netConn
	rc   syscall.RawConn
	key  connKey
	uses int
	// private: see session.svPrivate.
	private bool
}

// park moves the current server connection to the idle set, closing the
// oldest one when the set is full.
func (s *session) park() {
	if s.sv.c == nil {
		return
	}
	if s.sv.raw() != nil {
		s.closeServer()
		return
	}
	if be := s.svBe; be != nil && be.reuseOf(s.svSrv) != reuseNever && !s.svPrivate {
		// As HAProxy's shared connections, it waits in the server's idle
		// list, under its keep policy; only private ones stay with the
		// session. The request it carried was not the client's first when
		// this one is its third or later.
		s.releaseServerAs(s.reqs > 2 || s.h2Stream, false)
		return
	}
	s.mu.Lock()
	if len(s.idleConns) >= s.fe.maxSessSrv {
		// As session_check_idle_conn: the session keeps the ones it has.
		s.mu.Unlock()
		s.resetServer()
		return
	}
	if s.idleConns == nil {
		// HAProxy's default max-session-srv-conns; most sessions keep
		// none.
		s.idleConns = make([]idleConn, 0, 5)
	}
	s.idleConns = append(s.idleConns, idleConn{s.svSrv, s.svBe, s.sv.c, s.sv.rc, s.svKey, s.svUses, s.svPrivate})
	s.mu.Unlock()
	s.setSvSock(nil)
	s.onServer.Store(nil)
	s.sv.setConn(nil, nil)
	s.uncountServer()
	s.svSrv, s.svBe, s.svClean = nil, nil, false
}

// lastServer is assign_server's prefer-last search: with "option
// prefer-last-server", or once an NTLM or Negotiate authentication began,
// the first server the session keeps a connection of its own to that may
// take the request, unless the algorithm hashes the request.
func (s *session) lastServer(be *Backend) *backend.Server {
	if !(be.preferLast || s.preferLast) || be.LB.Algo.Hashed() {
		return nil
	}
	always := s.preferLast
	if s.sv.c != nil && s.svBe == be && (s.svPrivate || be.reuseOf(s.svSrv) == reuseNever) && s.svSrv.KeepLast(be.maxKAQueue, always) {
		return s.svSrv
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ic := range s.idleConns {
		if ic.be == be && ic.srv.KeepLast(be.maxKAQueue, always) {
			return ic.srv
		}
	}
	return nil
}

// connAuth says whether a 401 or 407 response asks for an authentication
// bound to the connection: a WWW-Authenticate (Proxy-Authenticate) value,
// of those its commas outside quotes separate, that begins with "NTLM" or
// "Nego".
func connAuth(head []byte, m *h1.Msg) bool {
	name := []byte("www-authenticate")
	if m.Status == 407 {
		name = []byte("proxy-authenticate")
	}
	for i := range m.Headers {
		h := &m.Headers[i]
		if !bytes.EqualFold(h.Name.Of(head), name) {
			continue
		}
		v := h.Value.Of(head)
		for start, quoted, j := 0, false, 0; j <= len(v); j++ {
			if j < len(v) {
				c := v[j]
				if c == '"' {
					quoted = !quoted
				} else if c == '\\' && quoted {
					j++
				}
				if c != ',' || quoted {
					continue
				}
			}
			p := bytes.TrimLeft(v[start:min(j, len(v))], " \t")
			if len(p) >= 4 && (bytes.EqualFold(p[:4], []byte("ntlm")) || bytes.EqualFold(p[:4], []byte("nego"))) {
				return true
			}
			start = j + 1
		}
	}
	return false
}

// unpark takes an idle connection to srv: the session's own, else, as
// http-reuse allows, one another client left in the backend's pool.
func (s *session) unpark(srv *backend.Server, be *Backend, sni []byte, key connKey, perStream bool) (pooledConn, bool) {
	if perStream {
		// The stream's PROXY header is on none of them.
		return pooledConn{}, false
	}
	s.mu.Lock()
	for i, ic := range s.idleConns {
		if ic.srv == srv && ic.key == key && sameSNI(ic.c, sni) {
			copy(s.idleConns[i:], s.idleConns[i+1:])
			s.idleConns = s.idleConns[:len(s.idleConns)-1]
			s.mu.Unlock()
			return pooledConn{c: ic.c, rc: ic.rc, key: ic.key, uses: ic.uses, private: ic.private}, true
		}
	}
	s.mu.Unlock()
	// "safe" shares connections with a client's later requests only;
	// "aggressive" also with first ones, on connections that carried
	// more than one request, "always" on any.
	// An HTTP/2 client's streams are never first requests (HAProxy's
	// H2 mux marks them SE_FL_NOT_FIRST).
	first := s.FirstRequest()
	switch {
	case be.reuseOf(srv) == reuseNever, be.reuse == reuseSafe && first:
		return pooledConn{}, false
	}
	return be.idle.take(srv, be.reuse == reuseAggressive && first, sni, key)
}

// connKeyFor is the key of a connection to srv for the current request:
// a transparent server is dialled at the client's destination, a
// port-mapped one at its port, and a PROXY header names the client.
func (s *session) connKeyFor(be *Backend, srv *backend.Server) connKey {
	var k connKey
	switch {
	case srv.Transparent:
		k.dst = s.txn.Dst
	case srv.PortMapped():
		k.dst = netip.AddrPortFrom(netip.Addr{}, s.txn.Dst.Port())
	}
	if be.pp.get(srv) != nil {
		k.ppSrc, k.ppDst = s.txn.Src, s.txn.Dst
	}
	if b := srv.Source; b != nil && b.Transparent() {
		// A transparent connection carries its client's requests only.
		k.src, _ = s.usesrcAddr(be, b)
	}
	k.tid = s.thread()
	return k
}

// thread is the thread HAProxy would serve the client connection on,
// with tune.idle-pool.shared off (0 otherwise): the client's port
// hashed over the threads, as its listeners spread connections (a
// port's low bit alone would not do: Linux hands out even ones).
func (s *session) thread() int {
	n := s.e.g.idleThreads
	if n == 0 {
		return 0
	}
	src := s.sessConnSrc
	if !src.IsValid() {
		src = s.sessSrc
	}
	return int((uint32(src.Port())*2654435761)>>16) % n
}

func (s *session) closeIdle() {
	s.mu.Lock()
	for _, ic := range s.idleConns {
		ic.c.Close()
	}
	s.idleConns = s.idleConns[:0]
	s.mu.Unlock()
}

// dialer connects to the backend's servers.
func (be *Backend) dialer() net.Dialer {
	d := net.Dialer{Timeout: be.Connect, KeepAliveConfig: be.tcpKA.config()}
	if !be.tcpKA.on {
		d.KeepAlive = -1
	}
	return d
}

// retryDelay is HAProxy's wait before retrying a refused connection:
// one second, or the connect timeout when shorter.
func retryDelay(be *Backend) time.Duration {
	if be.Connect > 0 && be.Connect < time.Second {
		return be.Connect
	}
	return time.Second
}

// awaitUnlessClosed waits d, the turn-around before a retry, unless the
// client closes first: with abortonclose HAProxy ends the stream as soon
// as the close is seen, not at the next attempt. It tells whether the
// client closed.
func (s *session) awaitUnlessClosed(d time.Duration) bool {
	end := time.Now().Add(d)
	for {
		if s.clientClosed() {
			return true
		}
		left := time.Until(end)
		if left <= 0 {
			return false
		}
		time.Sleep(min(left, abortPoll))
	}
}

// connect dials a server with the backend's connect timeout, retrying
// "retries" more times on the same server, after retryDelay when the
// connection was refused.
func (s *session) connect(be *Backend, srv *backend.Server) (netConn, error) {
	d := be.dialer()
	if err := s.bindSource(&d, be, srv); err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		c, err := dialAddr(&d, srv, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
		if err == nil {
			return c.(netConn), nil
		}
		if try >= be.Retries || be.retryOn&parser.RetryConnFailure == 0 || s.e.stopping.Load() {
			return nil, err
		}
		var ne net.Error
		if !(errors.As(err, &ne) && ne.Timeout()) {
			time.Sleep(retryDelay(be))
		}
	}
}

// connectServer connects to srv as HAProxy's back_handle_st_cer does:
// each failure costs a retry; with "option redispatch" a retry goes to
// another server on the failures its interval selects, at once when the
// server is down, or when the request is not persistent, the algorithm
// is not a hash and more than one active server is up. A retry on the
// same server (or with a single active one) waits after a refusal. It
// returns the server whose slot the caller holds, nil if none. failures
// are the retries the stream already spent (layer 7 ones).
func (s *session) connectServer(be *Backend, srv *backend.Server, k backend.Key, direct bool, failures int) (netConn, *backend.Server, error) {
	// The session's own dialer: a local one would escape to the heap.
	s.used |= scratchDialer
	s.dialer = be.dialer()
	d := &s.dialer
	for {
		c, err := s.dialServer(d, be, srv)
		// The log's retry count (%rc).
		s.logRetries = failures
		s.strm.retries.Store(int32(failures))
		if err == nil {
			return c, srv, nil
		}
		local := s.e.connectError(be, err)
		if err != errProxyHeader && err != errUsesrc {
			srv.HealthAdjust(backend.HanaL4Err)
		}
		if err == errProxyHeader || err == errUsesrc {
			return nil, srv, err
		}
		be.idle.tried(srv)
		if failures++; failures > be.Retries || be.retryOn&parser.RetryConnFailure == 0 || s.e.stopping.Load() {
			return nil, srv, err
		}
		s.countAttempt(be, srv)
		var ne net.Error
		wait := !(errors.As(err, &ne) && ne.Timeout()) && !local
		var redisp bool
		if srv, direct, redisp, err = s.retryServer(be, srv, k, direct, failures, err); srv == nil {
			return nil, nil, err
		}
		if redisp && s.redisp.allowed {
			// A redispatched request takes an idle connection to its new
			// server as its first attempt would (connect_server).
			if pc, ok := s.unpark(srv, be, s.evalSNI(be, srv), s.connKeyFor(be, srv), be.pp.get(srv).perStream()); ok {
				s.logRetries = failures
				s.strm.retries.Store(int32(failures))
				s.redisp.pc, s.redisp.hit = pc, true
				return nil, srv, nil
			}
		}
		if redisp {
			wait = wait && be.LB.ActiveCount() <= 1
		}
		if wait {
			if be.abortOnClose && s.awaitUnlessClosed(retryDelay(be)) {
				// The failed attempt counts as a retry spent.
				s.logRetries = failures
				s.strm.retries.Store(int32(failures))
				return nil, srv, errClientAborted
			}
			if !be.abortOnClose {
				time.Sleep(retryDelay(be))
			}
			if s.tracing() {
				s.traceTimeouts()
			}
		}
	}
}

// countAttempt counts a connection attempt that failed and is retried
// as HAProxy's connect_server counts each (connect, and a session on the
// server, srv_inc_sess_ctr); the stream's last attempt counts when it
// ends.
func (s *session) countAttempt(be *Backend, srv *backend.Server) {
	g := s.e.g
	if g.stats == nil {
		return
	}
	g.beCounters(be).addConnect(false)
	sc := g.srvCounters(srv)
	sc.addConnect(false)
	sc.addSession(time.Now())
}

// connectFailed answers a request whose server could not be reached.
func (s *session) connectFailed(srv *backend.Server, err error) bool {
	if err == errClientAborted {
		// Logged as HAProxy does: no status, the client closed while the
		// connection was tried.
		s.logSrv, s.txStatus = srv, -1
		s.txFlags = logging.SFErrCliCl | logging.SFFinstC
		return false
	}
	// The log names the server that could not be reached, and the
	// address tried.
	s.logSrv = srv
	if s.logging {
		s.logSrvAddr = s.srvDst(srv, nil)
	}
	if err == errUsesrc {
		// An internal error (SF_ERR_INTERNAL): 500, not retried.
		keep := s.errorReply(500, true)
		s.txFlags = logging.SFErrInternal | logging.SFFinstC
		return keep
	}
	keep := s.errorReply(503, true)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.txFlags = logging.SFErrSrvTO | logging.SFFinstC
	}
	return keep
}

// connected accounts for the server connection a request goes out on.
func (s *session) connected(srv *backend.Server, reused bool) {
	srv.HealthAdjust(backend.HanaL4OK)
	s.svUses++
	s.svClean = false
	// A server counts its session once connected (srv_inc_sess_ctr),
	// which srv_sess_rate sees during the exchange.
	// A reused connection waited for nothing since the stream left the
	// queue: that reading is still now.
	now := s.lt.queue
	if !reused || now.IsZero() {
		now = s.lt.now()
	}
	s.e.g.srvCounters(srv).addSession(now)
	s.txn.SrvName, s.txn.SrvID = srv.Name, srv.ID
	if s.track {
		s.lt.connect = now
		s.logSrv = srv
		if s.logging {
			// Only the log line shows them (%si, %bi): the local address
			// is a system call.
			s.logSrvAddr, s.logSrcAddr = s.srvDst(srv, s.sv.c), addrPort(s.sv.c.LocalAddr())
		}
		s.logReused = reused
	}
}

// retryL7 is do_l7_retry: the answer is dropped with its connection and
// the request, as it was sent, goes out again on a new connection to
// the same server or, as "option redispatch" decides, another one. Each
// try costs one of the backend's retries, shared with the connection's
// own. It reports false when none is left; err is then set when no
// connection could be made.
func (s *session) retryL7(be *Backend, srv **backend.Server, k backend.Key, direct bool, out []byte) (bool, error) {
	failures := s.logRetries + 1
	if failures > be.Retries || s.e.stopping.Load() {
		return false, nil
	}
	s.closeServer()
	s.logRetries = failures
	s.strm.retries.Store(int32(failures))
	// do_l7_retry counts a retry before stream_choose_redispatch counts
	// its own.
	s.e.g.srvCounters(*srv).addRetry(false)
	s.e.g.beCounters(be).addRetry(false)
	next, direct, _, err := s.retryServer(be, *srv, k, direct, failures, errL7Retry)
	if *srv = next; next == nil {
		return false, err
	}
	c, got, err := s.connectServer(be, next, k, direct, failures)
	*srv = got
	if err != nil {
		return false, err
	}
	s.attachServer(c, got, be, false)
	s.connected(got, false)
	if ck := be.cookie; ck != nil {
		// The response's cookie names the server that answers.
		s.ckVal = ck.valOf(got)
	}
	if err := s.sv.sendAwait(out); err != nil {
		return false, err
	}
	return true, nil
}

// retryServer is stream_choose_redispatch: the server a retry goes to,
// another one when "option redispatch" says so, with the retry or the
// redispatch counted. With no server left it returns nil and the error
// to answer.
func (s *session) retryServer(be *Backend, srv *backend.Server, k backend.Key, direct bool, failures int, err error) (*backend.Server, bool, bool, error) {
	if !be.redispatchNow(srv, failures, direct) {
		s.e.g.srvCounters(srv).addRetry(false)
		s.e.g.beCounters(be).addRetry(false)
		srv.CountAttempt()
		return srv, direct, false, nil
	}
	be.LB.Release(srv)
	other, aerr := be.LB.AcquireAvoid(context.Background(), be.Queue, k, srv)
	if aerr != nil {
		return nil, false, true, err
	}
	moved := other != srv
	if moved {
		s.logRedisp = true
	}
	s.e.g.srvCounters(srv).addRetry(moved)
	s.e.g.beCounters(be).addRetry(moved)
	return other, false, true, nil
}

// errL7Retry stands for a retried answer when no server is left for it.
var errL7Retry = errors.New("no server for the retry")

// serverRedirect is http_perform_server_redirect: the server's "redir"
// prefix and the request's path, in a 302 that closes the connection.
func (s *session) serverRedirect(srv *backend.Server, head []byte) bool {
	path := requestPath(s.req.URI.Of(head))
	if path == nil {
		// No path (an asterisk): HAProxy makes no answer either.
		s.txStatus, s.txFlags = -1, logging.SFErrLocal|logging.SFFinstC
		return false
	}
	// The head may sit in a session buffer: the answer gets its own.
	out := make([]byte, 0, 128+len(srv.Redir)+len(path))
	out = append(out, "HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: "...)
	if srv.Redir != "/" {
		out = append(out, srv.Redir...)
	}
	out = append(out, path...)
	out = append(out, "\r\nconnection: close\r\n\r\n"...)
	s.fe.caseCli.adjust(out)
	s.logSrv = srv
	s.e.g.srvCounters(srv).addSession(time.Now())
	s.setReply(out)
	s.cl.send(out)
	s.txStatus, s.txFlags = 302, logging.SFErrLocal|logging.SFFinstC
	return false
}

// clientKeepAlive says whether the client asked to keep its connection,
// in the head it sent (cliConn): what rules did to Connection goes to
// the server only.
func (s *session) clientKeepAlive() bool {
	if !s.cliConnSet {
		return s.req.KeepAlive()
	}
	return h1.KeepAlive(s.req.Minor, s.cliConn)
}

// absoluteHTTP says an absolute target names the scheme http as HAProxy
// tells it (h1_htx.c, http_update_host): its fifth byte is the colon
// after an 'h' and three more letters.
func absoluteHTTP(uri []byte) bool {
	return len(uri) > 4 && uri[0] != '/' && uri[0] != '*' && uri[0]|0x20 == 'h' && uri[4] == ':'
}

// requestPath is http_parse_path: the URI from its path on (with the
// query), nil when it has none.
func requestPath(uri []byte) []byte {
	if len(uri) > 0 && uri[0] == '/' {
		return uri
	}
	if i := bytes.Index(uri, []byte("://")); i >= 0 {
		rest := uri[i+3:]
		if j := bytes.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return nil
	}
	return nil
}

// errProxyHeader is a failure to send the PROXY header, not retried.
var errProxyHeader = errors.New("proxy header not sent")

// dialServer opens a connection to srv: TCP, the PROXY header, then the
// TLS handshake of an "ssl" server within the connect timeout.
func (s *session) dialServer(d *net.Dialer, be *Backend, srv *backend.Server) (netConn, error) {
	if err := s.bindSource(d, be, srv); err != nil {
		return nil, err
	}
	if f := be.fcgi; f != nil && f.servers[srv] {
		return s.dialFCGI(d, be, srv)
	}
	s.txn.BackConn, s.txn.BackTLS = false, nil
	be.idle.shed(srv)
	c, err := s.dialServerConn(d, be, srv)
	if err != nil {
		s.tlsFailed(err)
	}
	return c, err
}

// tlsFailed keeps a failed handshake as the stream's server connection,
// for bc_err and the ssl_bc* fetches. (Apart from dialServer: errors.As
// takes the target's address, which escapes, one allocation per
// connection made.)
func (s *session) tlsFailed(err error) {
	var tf *tlsFailure
	if errors.As(err, &tf) {
		s.txn.BackConn, s.txn.BackErr, s.txn.BackTLS = true, tf.code, tf.info
	}
}

// dialServerConn connects to srv over HTTP/2, TLS or TCP.
func (s *session) dialServerConn(d *net.Dialer, be *Backend, srv *backend.Server) (netConn, error) {
	if h := be.h2.get(srv); h != nil {
		if c, ok, err := s.dialH2(d, be, srv, h); ok {
			return c, err
		}
	}
	// The connect timeout covers the TLS handshake: only then is the
	// clock read before connecting.
	t := be.tls.get(srv)
	var deadline time.Time
	if t != nil && be.Connect > 0 {
		deadline = time.Now().Add(be.Connect)
	}
	// Connecting is waiting: an HTTP/2 stream is not at work meanwhile.
	s.sv.waitIO()
	nc, err := dialAddr(d, srv, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
	s.sv.endWaitIO()
	if err != nil {
		return nil, err
	}
	c := nc.(netConn)
	if s.sendProxyHeader(be, srv, c) != nil {
		return nil, errProxyHeader
	}
	if t == nil {
		return c, nil
	}
	return startTLS(c, t, s.evalSNI(be, srv), deadline, [2]*trafficCounters{s.e.g.srvCounters(srv), s.e.g.beCounters(be)}, s.e.g)
}

// errClientAborted ends a request dropped by abortonclose.
var errClientAborted = errors.New("client aborted")

// clientClosed peeks at the client socket without blocking: true when
// the client has closed its side and nothing more is to be read, what
// HAProxy knows once it has read to the end of what was received.
// drainClient reads, without waiting, what the client sent and nothing
// will read.
func (s *session) drainClient() {
	if s.cl.m != nil {
		// What came is in no socket buffer to reset the close.
		return
	}
	rc, err := s.cl.c.SyscallConn()
	if err != nil {
		return
	}
	var b [4096]byte
	rc.Read(func(fd uintptr) bool {
		for {
			n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_DONTWAIT)
			if n <= 0 || err != nil {
				return true
			}
		}
	})
}

func (s *session) clientClosed() bool {
	if s.cl.r < s.cl.w {
		return false
	}
	if m := s.cl.m; m != nil {
		return m.got == 0 && m.end == io.EOF
	}
	closed := false
	var b [1]byte
	peek := func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = n == 0 && err == nil
		return true
	}
	if s.rawFD >= 0 {
		// Inside the readiness wait, which holds the read side.
		peek(uintptr(s.rawFD))
		return closed
	}
	rc, err := s.cl.c.SyscallConn()
	if err != nil {
		return false
	}
	rc.Read(peek)
	return closed
}

// redispatchNow is stream_choose_redispatch's condition.
func (be *Backend) redispatchNow(srv *backend.Server, failures int, direct bool) bool {
	if !be.Redispatch {
		return false
	}
	if srv.State() != backend.Up {
		return true
	}
	if n := be.RedispatchAfter; n > 0 && failures%n == 0 {
		return true
	} else if m := be.Retries + 1 + n; n < 0 && m > 0 && failures%m == 0 {
		return true
	}
	switch be.LB.Algo {
	case backend.Source, backend.URI, backend.Hdr, backend.URLParam, backend.RDPCookie:
		return false
	}
	return !direct && be.LB.ActiveCount() > 1
}

// attachServer makes c the session's server connection; counted says
// the pool already counts it in use.
func (s *session) attachServer(c netConn, srv *backend.Server, be *Backend, counted bool) {
	if be.noLinger {
		setLinger0(c)
	}
	s.sv.setConn(c, nil)
	s.setSvSock(c)
	s.txn.BackTLS = backTLS(c)
	s.txn.BackConn, s.txn.BackErr = true, 0
	s.uncountServer()
	s.svSrv, s.svBe, s.svUses, s.svClean, s.svPrivate = srv, be, 0, false, false
	if be.reuseOf(srv) != reuseNever {
		if !counted {
			be.idle.use(srv)
		}
		s.svCounted = true
	}
	s.svKey = s.connKeyFor(be, srv)
	s.onServer.Store(srv)
	if s.svBuf == nil {
		s.svBuf = s.fe.pool.get()
		s.sv.buf = *s.svBuf
	}
	s.sv.r, s.sv.w = 0, 0
	s.sv.timeout = be.Server
	if s.toServer > 0 {
		s.sv.timeout = s.toServer
	}
	s.sv.wto = s.sv.timeout
}

// serveHTTP serves the client's requests. Heads are read inside the
// client connection's readiness wait (RawConn.Read), which stays open
// across requests: a read that drained the socket is not followed by
// another one that would fail with EAGAIN, the session waits for the
// next readiness event instead, as HAProxy's poller does. The readiness
// state is only reset when the wait starts, so no event is lost in
// between. Requests that must read more of the client (bodies, tunnels,
// 100-continue) are served outside it.
func (s *session) serveHTTP() {
	if s.cl.raw() != nil {
		return
	}
	rc := s.cl.rc
	s.keep = true
	if s.stepFn == nil {
		s.stepFn = func(fd uintptr) bool { return s.step(int(fd), &s.keep) }
	}
	for {
		s.next = 0
		s.inRaw.Store(true)
		err := rc.Read(s.stepFn)
		s.rawFD = -1
		s.inRaw.Store(false)
		if err == errParked {
			// Still idle: resumeParked goes on.
			s.parked = true
			return
		}
		s.idle.Store(false)
		if err != nil {
			s.headFailed(err)
			return
		}
		if !s.keep {
			if pre := s.h2Pre; pre != nil {
				s.h2Pre = nil
				s.serveH2(pre)
			}
			return
		}
		if s.next > 0 {
			// The answer says whether the connection goes on, also
			// during a soft stop: pipelined requests then get theirs.
			if !s.transaction(s.next) {
				return
			}
			if s.cl.r == s.cl.w {
				// As in fill: the other sessions run first, which often
				// saves a read failing with EAGAIN on the next request.
				goruntime.Gosched()
			}
		}
	}
}

// step runs inside the readiness wait, first when it starts and then on
// each readiness event; both allow one read. It returns false to wait
// for the next event, true to leave.
func (s *session) step(fd int, keep *bool) bool {
	s.rawFD = fd
	s.idle.Store(false)
	if s.waited {
		s.waited = false
		if o := s.e.order; o != nil && s.turn != nil {
			o.wait(s)
		}
	}
	canRead := true
	for {
		hl, ok := s.rawHead(fd, &canRead)
		if hl == 0 {
			if !ok {
				*keep = false
				return true
			}
			s.waited = true
			return false
		}
		if !s.parse(hl) {
			*keep = false
			return true
		}
		if !s.simple() {
			s.next = hl
			return true
		}
		if !s.transaction(hl) {
			*keep = false
			return true
		}
	}
}

// simple tells a request served without reading more of the client.
func (s *session) simple() bool {
	req := &s.req
	switch {
	case req.Expect100 || req.Conn&h1.ConnUpgrade != 0 || req.Upgrade.Len() > 0:
		return false
	case req.Body == h1.BodyNone:
		return true
	case req.Body == h1.BodyLength:
		return int64(s.cl.w-s.cl.r) >= req.Length
	case req.Body == h1.BodyChunked:
		// Buffered to the end of its trailers: forwarding it reads
		// nothing more of the client.
		return s.chunkedDone
	}
	return false
}

// rawHead looks for a complete request head at the start of the client
// buffer, reading from fd while canRead holds. It returns the head's
// length, or 0 with ok to wait for readiness (the read deadline set), or
// 0 without ok when the session must end.
func (s *session) rawHead(fd int, canRead *bool) (hl int, ok bool) {
	cl := &s.cl
	fe := s.fe
	hto := fe.HTTPRequest
	if hto == 0 {
		hto = fe.Client
	}
	if s.clBuf == nil {
		s.takeBuffers()
	}
	// One clock reading serves the deadline and the first byte's time.
	// An HTTP/2 stream's request was whole when the stream started, as
	// HAProxy's H2 mux hands it over: that reading serves.
	var now time.Time
	if s.h2Stream && s.track && s.reqs == 0 {
		now = s.lt.start
	}
	if !s.hdActive {
		cl.compact()
		s.hdActive = true
		s.hdStarted = cl.w > 0 || s.reqs == 0
		s.hdDeadline = time.Time{}
		if hto > 0 && s.hdStarted {
			if now.IsZero() {
				now = s.lt.now()
			}
			s.hdDeadline = now.Add(hto)
		}
	}
	// recheck is set by a short read: a close that came with the data
	// makes no new readiness event, so an incomplete head reads once
	// more to find it.
	recheck := false
	for {
		if cl.w > 0 {
			if pre := s.reqPre; pre != nil {
				s.reqPre = nil
				// What HAProxy's h2 layer let through is not judged
				// again: no header count (it allows twice maxhdr), no
				// lax parse to choose.
				if cl.w >= pre.HeadLen {
					hs := append(s.req.Headers[:0], pre.Headers...)
					s.req = *pre
					s.req.Headers = hs
					s.hdActive = false
					s.perr = nil
					return s.req.HeadLen, true
				}
			}
			var err error
			s.req.Refuse10Payload = !s.e.g.h1AnyPayload
			if fe.acceptInvalid {
				err = h1.ParseRequestLax(cl.buf[:cl.w], &s.req, fe.maxHdr)
			} else {
				err = h1.ParseRequest(cl.buf[:cl.w], &s.req, fe.maxHdr)
			}
			if err != h1.ErrIncomplete {
				// A bad head is answered at once, whole or not.
				s.hdActive = false
				s.perr = err
				return max(s.req.HeadLen, 1), true
			}
			if recheck {
				recheck, *canRead = false, true
			}
		}
		if cl.w >= fe.bufSize {
			s.refuse(400, fe.Errors.raw(400), true)
			return 0, false
		}
		if !*canRead {
			if !s.hdStarted && cl.w == 0 {
				kto := fe.HTTPKeepAlive
				if kto == 0 {
					kto = hto
				}
				var t time.Time
				if kto > 0 {
					// The idle time counts from the previous stream's
					// end, the clock reading it ended with.
					if t = s.lt.start; !s.track || t.IsZero() {
						t = time.Now()
					}
					t = t.Add(kto)
				}
				setIdleDeadline(cl.c, t)
				s.idle.Store(true)
				s.shedBuffers()
				if s.e.stopping.Load() && !fe.keepIdle {
					cl.c.SetReadDeadline(s.e.stopIdleDeadline(t))
				}
			} else {
				cl.c.SetReadDeadline(s.hdDeadline)
			}
			return 0, true
		}
		space := fe.bufSize - cl.w
		n, err := cl.recv(uintptr(fd), cl.buf[cl.w:fe.bufSize])
		if err == unix.EAGAIN {
			*canRead = false
			continue
		}
		if err != nil || n == 0 {
			probe := cl.w == 0 && s.reqs == 0
			if n == 0 && err == nil && (cl.w > 0 || probe && !fe.ignoreProbes) {
				// A request cut short, or none at all on a new
				// connection: HAProxy's 400, logged and counted, and
				// sent, which a client that only shut its side for
				// writing reads.
				s.stickEarly(400)
				s.cl.send(fe.Errors.raw(400))
				if s.track {
					s.noStreamBytes()
					s.countStream(400)
				}
				if probe {
					s.logEmpty()
				} else {
					s.logMuxError(logging.SFErrCliCl|logging.SFFinstR, 400)
				}
			}
			return 0, false
		}
		// A short read emptied the socket: more data will come with
		// a readiness event.
		if n < space {
			*canRead, recheck = false, true
		}
		first := cl.w == 0 && s.track && s.lt.first.IsZero()
		if first || !s.hdStarted && hto > 0 {
			if now.IsZero() {
				now = s.lt.now()
			}
			if first {
				s.lt.first = now
			}
			if !s.hdStarted && hto > 0 {
				s.hdDeadline = now.Add(hto)
			}
			// The request's own reading when this read completes its head.
			s.headAt, s.headAtW = now, cl.w+n
		}
		cl.w += n
		cl.rbytes += int64(n)
		s.hdStarted = true
	}
}

func rawRead(fd int, b []byte) (int, error) {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	for {
		// recv, not read: the socket layer without the file layer's
		// checks. The socket never blocks, so the scheduler need not
		// hear of the call (RawSyscall).
		n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(p), uintptr(len(b)), 0, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// sendOne sends b with send(2), the cheapest way for one slice.
func sendOne(fd uintptr, b []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// refuse answers a request that cannot be served and ends the session
// with a lingering close: the rest of what the client sent is read and
// dropped while it reads the answer, so that it sees a FIN, not the
// reset that closing on unread data sends, as with HAProxy.
// mux says HAProxy's HTTP/1 side answers, before a stream exists.
func (s *session) refuse(code int, page []byte, mux bool) {
	s.stickEarly(code)
	s.cl.send(page)
	if s.track {
		if mux {
			s.noStreamBytes()
		}
		s.countStream(code)
	}
	if mux {
		s.logMuxError(errFlags(code), code)
	} else if s.logging {
		s.rec.RequestLine = nil
		s.logStream(errFlags(code), code)
	}
	s.linger = true
}

// lingerClose shuts the client side for writing and drains it until the
// client closes, for at most a second.
func (s *session) lingerClose() {
	c := s.cl.c
	if c.CloseWrite() != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	var b [4096]byte
	for total := 0; total < 1<<20; {
		n, err := c.Read(b[:])
		if err != nil {
			return
		}
		total += n
	}
}

// headFailed ends a readiness wait that failed: a timeout answers 408
// to a started head or a first request, as HAProxy does.
func (s *session) headFailed(err error) {
	if !isTimeout(err) || s.e.stopping.Load() {
		return
	}
	if s.cl.w > 0 || s.reqs == 0 && !s.fe.ignoreProbes {
		s.cl.send(s.fe.Errors.raw(408))
		if s.track {
			s.noStreamBytes()
			s.countStream(408)
		}
		s.logMuxError(errFlags(408), 408)
	}
}

// htxLimit is how much of a request head HAProxy 2.6 accepts with its
// default tune.bufsize (16384) and tune.maxrewrite (1024), counted as its
// HTX layout stores the head: each header and the start line in a block
// with 8 bytes of index, the start line with 20 bytes of flags and
// lengths, and an end-of-headers block.
const htxLimit = 15311

func htxCost(m *h1.Msg, request bool) int {
	n := 8 + 20 + 8 + 8 // start-line block, its header, version, EOH
	if request {
		n += m.Method.Len() + m.URI.Len()
	} else {
		n += 3 + m.Reason.Len()
	}
	for _, h := range m.Headers {
		n += 8 + h.Name.Len() + h.Value.Len()
	}
	return n
}

// rwBuf returns a rewrite buffer, taking one from the pool the first time.
func (s *session) rwBuf(b *[]byte) []byte {
	if *b == nil {
		bp := s.fe.pool.get()
		s.rwBufs = append(s.rwBufs, bp)
		*b = (*bp)[:0]
	}
	return *b
}

// rewriteRequest runs legacy filters on the request head; it returns the
// new head, or nil with s.denyStatus set when the request is refused.
func (s *session) rewriteRequest(rules []legacyRule, head []byte) []byte {
	s.used |= scratchLegacy
	nh, err := rewriteHead(rules, &s.txn, &s.req, head, true, s.rwBuf(&s.rw), &s.legacy)
	switch {
	case err == errDenied:
		s.denyStatus = 403
		return nil
	case err != nil:
		s.denyStatus = 400
		return nil
	}
	s.rw = nh
	s.txn.Buf = nh
	return nh
}

// errors are the error pages of the current stream: the backend's
// errorfiles first, then the frontend's, as HAProxy looks them up.
func (s *session) errors() *errorSet {
	if s.be != nil && s.be.Errors != nil {
		return s.be.Errors
	}
	return s.fe.Errors
}

// errorReply sends a stream error; it reports whether the connection may
// carry another request.
func (s *session) errorReply(code int, keep bool) bool {
	return s.pageReply(s.errors(), code, keep)
}

// pageReply answers with the page of code from set.
func (s *session) pageReply(set *errorSet, code int, keep bool) bool {
	s.txStatus, s.txFlags = code, errFlags(code)
	keep = keep && s.clientKeepAlive() && s.fe.ConnMode != modeClose && s.skipBufferedBody() && !s.e.stopClose() &&
		!set.mustClose(code)
	if s.e.hard.Load() {
		return false
	}
	var page []byte
	if d := set.dynamic(code); d != nil {
		// An http-error answer with log-format parts.
		head, body := s.buildReply(d, code)
		page = s.afterAnswer(append(append(head, "\r\n"...), body...))
		if !keep {
			page = insertHeader(page, "connection: close")
		}
	} else if !keep && (set == nil || !set.untilClose[code]) && s.hasAfterRules() {
		// The close goes after what http-after-response adds, as
		// HAProxy's H1 side writes it.
		page = insertHeader(s.afterAnswer(set.stream(code, false)), "connection: close")
	} else {
		page = s.afterAnswer(set.stream(code, !keep))
	}
	page = s.fe.caseCli.adjusted(page)
	s.setReply(page)
	s.cl.send(s.headOnly(page))
	return keep
}

// useServer runs the backend's use-server rules (process_server_rules):
// the first matching rule whose server is not stopped names it.
// persistRule is a force-persist (kind prstForce) or ignore-persist
// (prstIgnore) line.
type persistRule struct {
	kind uint8
	cond *acl.Cond
}

const (
	prstForce uint8 = 1 + iota
	prstIgnore
)

// evalPersist runs the backend's persistence rules once it is known, as
// process_switching_rules does: the first that matches forces the
// stream's persistence on stopped servers, or has it ignore the cookie.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) evalPersist(be *Backend) {
	s.prst = 0
	for i := range be.persistRules {
		if r := &be.persistRules[i]; r.cond.Eval(&s.txn) {
			s.prst = r.kind
			return
		}
	}
}

// persistOn says persistence may pick srv: it runs, or option persist
// or a force-persist rule sends there all the same.
func (s *session) persistOn(be *Backend, srv *backend.Server) bool {
	return !srv.Stopped() || be.LB.Persist || s.prst == prstForce
}

func (s *session) useServer(be *Backend) *backend.Server {
	for i := range be.srvRules {
		r := &be.srvRules[i]
		if !r.cond.Eval(&s.txn) {
			continue
		}
		srv := r.srv
		if srv == nil {
			s.buildName(r.name)
			for _, x := range be.LB.ServerList() {
				if x.Name == string(s.name) {
					srv = x
					break
				}
			}
			if srv == nil {
				return nil
			}
		}
		if s.persistOn(be, srv) {
			return srv
		}
	}
	return nil
}

// buildName writes a name format's result to s.name.
func (s *session) buildName(parts []namePart) {
	s.name = s.name[:0]
	for _, p := range parts {
		if p.sample == nil {
			s.name = append(s.name, p.lit...)
		} else {
			s.name, _ = p.sample.Append(s.name, &s.txn)
		}
	}
}

func (s *session) route() *Backend {
	if s.used&scratchLegacy != 0 && s.legacy.be != "" {
		// reqsetbe chose it, before the switching rules.
		return s.e.g.byName[s.legacy.be]
	}
	for i := range s.fe.routes {
		r := &s.fe.routes[i]
		if !r.cond.Eval(&s.txn) {
			continue
		}
		if r.be != nil {
			return r.be
		}
		s.buildName(r.name)
		if be := s.e.g.byName[string(s.name)]; be != nil {
			return be
		}
	}
	return s.fe.Default
}

// appendConnection writes a Connection header without its close and
// keep-alive tokens, which belong to each hop; nothing when none is left.
// nonZeroDigits says a decimal value is not zero.
func nonZeroDigits(v []byte) bool {
	for _, c := range v {
		if c != '0' {
			return true
		}
	}
	return false
}

func appendConnection(out, v []byte) []byte {
	start := len(out)
	n := 0
	for more := true; more; {
		var item []byte
		item, v, more = nextToken(v)
		if len(item) == 0 || h1.EqualFold(item, "close") || h1.EqualFold(item, "keep-alive") {
			continue
		}
		if n == 0 {
			out = append(out, "connection: "...)
		} else {
			out = append(out, ", "...)
		}
		out = append(out, item...)
		n++
	}
	if n == 0 {
		return out[:start]
	}
	return append(out, "\r\n"...)
}

func nextToken(v []byte) (item, rest []byte, more bool) {
	item = v
	for i, c := range v {
		if c == ',' {
			item, rest, more = v[:i], v[i+1:], true
			break
		}
	}
	for len(item) > 0 && (item[0] == ' ' || item[0] == '\t') {
		item = item[1:]
	}
	for len(item) > 0 && (item[len(item)-1] == ' ' || item[len(item)-1] == '\t') {
		item = item[:len(item)-1]
	}
	return item, rest, more
}

// endHeader ends a header line written from mark on, or takes it back
// when a rewrite left nothing to send.
func endHeader(out []byte, mark int, keep bool) []byte {
	if !keep {
		return out[:mark]
	}
	return append(out, "\r\n"...)
}

// reqTrailerMax bounds the request's trailer fields: tune.http.maxhdr
// for HTTP/1, none for HTTP/2, whose layer bounded the block (HAProxy
// does not apply maxhdr to HTTP/2).
func (s *session) reqTrailerMax() int {
	if s.h2Stream {
		return math.MaxInt
	}
	return s.fe.maxHdr
}

// rspMaxHdr is reqTrailerMax for the answer's head and trailers.
func (s *session) rspMaxHdr() int {
	if s.rspH2 {
		return math.MaxInt
	}
	return s.fe.maxHdr
}

// madeUpLength says rsp's Content-Length is the one the HTTP/2 layer
// wrote for a bodiless answer without one: HAProxy's HTTP/1 side adds
// it, its HTTP/2 side does not.
func (s *session) madeUpLength(rhead []byte, rsp *h1.Msg) bool {
	if !rsp.HasCL || !s.rspH2 {
		return false
	}
	for _, h := range rsp.Headers {
		if string(h.Name.Of(rhead)) == "Content-Length" {
			return true
		}
	}
	return false
}

// svH2 says the server connection is an HTTP/2 one's stream.
func (s *session) svH2() bool {
	_, ok := s.sv.c.(*h2VConn)
	return ok
}

func (s *session) appendForwarded(out []byte, head []byte, be *Backend) []byte {
	ff := be.FF
	if ff == nil {
		ff = s.fe.FF
	}
	if ff != nil {
		src := s.txn.Src.Addr().Unmap()
		skip := ff.except.IsValid() && ff.except.Contains(src)
		if !skip && ff.ifNone {
			for _, h := range s.req.Headers {
				if h1.EqualFold(h.Name.Of(head), ff.header) {
					skip = true
					break
				}
			}
		}
		if !skip {
			out = append(out, ff.header...)
			out = append(out, ": "...)
			out = src.AppendTo(out)
			out = append(out, "\r\n"...)
		}
	}
	ot := be.OT
	if ot == nil {
		ot = s.fe.OT
	}
	if ot != nil {
		dst := s.txn.Dst.Addr().Unmap()
		if !(ot.except.IsValid() && ot.except.Contains(dst)) && dst.IsValid() {
			out = append(out, ot.header...)
			out = append(out, ": "...)
			out = dst.AppendTo(out)
			out = append(out, "\r\n"...)
		}
	}
	return out
}

// buildRequest writes the request head as HAProxy forwards it: request
// line normalised, header names lower-cased, Connection handled here.
func (s *session) buildRequest(head []byte, be *Backend, srv *backend.Server, mode int) []byte {
	req := &s.req
	out := s.out[:0]
	out = append(out, req.Method.Of(head)...)
	out = append(out, ' ')
	uri := req.URI.Of(head)
	abs, isAbs := acl.AbsTarget(out, s.txn.Origin, uri)
	if isAbs && s.svH2() {
		// An HTTP/2 server gets an HTTP/2 client's scheme and authority
		// as pseudo-headers (HAProxy keeps its target absolute).
		out = abs
	} else if isAbs && uri[0] == '*' {
		// No path: HAProxy's HTTP/1 side sends "*" for OPTIONS, "/"
		// for the others.
		if string(req.Method.Of(head)) == "OPTIONS" {
			out = append(out, '*')
		} else {
			out = append(out, '/')
		}
	} else if s.txn.SchemeHTTP && !isAbs && len(uri) > 0 && uri[0] == '/' && s.svH2() {
		// HAProxy's HTTP/2 side sends an origin-form target with the
		// scheme the start line's flags recorded, https without one:
		// an empty authority keeps the HTTP/2 layer from sending one.
		out = append(append(out, "http://"...), uri...)
	} else if c := req.PortCut; c.End > 0 {
		// The scheme's default port goes, as HAProxy normalises it.
		out = append(out, head[req.URI.Off:c.Off]...)
		out = append(out, head[c.End:req.URI.End]...)
	} else {
		out = append(out, req.URI.Of(head)...)
	}
	if req.Minor == 0 {
		// Below 1.1 the version goes as written (HTTP/1.0, HTTP/0.9).
		out = append(out, ' ')
		out = append(out, req.Version.Of(head)...)
		out = append(out, "\r\n"...)
	} else {
		out = append(out, " HTTP/1.1\r\n"...)
	}
	upgrade := req.Conn&h1.ConnUpgrade != 0 && req.Upgrade.Len() > 0
	clSeen := false
	// http-send-name-header names a server, not a backend's dispatch
	// target; the client's occurrences of the header go.
	sendName := be.sendName
	if srv == nil || srv == be.LB.Target {
		sendName = ""
	}
	var wsKey []byte
	// A body whose length a rule removed goes chunked, as HAProxy's H1
	// side sends it.
	chunked := s.reqRechunk
	for _, h := range req.Headers {
		name := h.Name.Of(head)
		if sendName != "" && h1.EqualFold(name, sendName) {
			continue
		}
		switch len(name) {
		case 7:
			if req.DropUpgrade && h1.EqualFold(name, "upgrade") {
				continue
			}
		case 17:
			if s.h2Stream && string(name) == "Sec-Websocket-Key" {
				// The key made up for an HTTP/2 WebSocket (no HTTP/2
				// name has upper case): it goes last, under this name,
				// as HAProxy's H1 side adds it when the head ends.
				wsKey = h.Out(head)
				continue
			}
			if s.h2Stream && string(name) == "transfer-encoding" {
				// The chunking of an HTTP/2 body without a length
				// (HTTP/2 refuses the field): HAProxy's H1 side adds it
				// when the head ends, after what rules added.
				chunked = true
				continue
			}
		case 4:
			if req.PortCut.End > 0 && h1.EqualFold(name, "host") {
				out = append(out, "host: "...)
				out = append(out, req.NormHost.Of(head)...)
				out = append(out, "\r\n"...)
				continue
			}
		case 2:
			if h1.EqualFold(name, "te") {
				// TE is hop-by-hop: only "trailers" goes on, as HAProxy
				// sends it.
				v := h.Value.Of(head)
				i := bytes.Index(v, []byte("trailers"))
				if i >= 0 && (len(v) == i+8 || v[i+8] == ',') {
					out = append(out, "te: trailers\r\n"...)
				}
				continue
			}
		case 10:
			if h1.EqualFold(name, "connection") {
				out = appendConnection(out, h.Value.Of(head))
				continue
			}
		case 15:
			if s.compDropAE() && h1.EqualFold(name, "accept-encoding") {
				continue
			}
		case 14:
			if h1.EqualFold(name, "content-length") {
				// A CONNECT has no body: what follows its head is the
				// tunnel's, and a non-zero Content-Length goes.
				if req.HasTE || clSeen || req.Connect && nonZeroDigits(req.CLValue.Of(head)) {
					continue
				}
				clSeen = true
				// The first value goes as written, as HAProxy sends it.
				out = append(out, "content-length: "...)
				out = append(out, req.CLValue.Of(head)...)
				out = append(out, "\r\n"...)
				continue
			}
		}
		if c := be.cookie; c != nil && (c.mode == ckPrefix || c.mode == ckInsert && c.indirect) && len(name) == 6 && h1.EqualFold(name, "cookie") {
			mark := len(out)
			var keep bool
			out, keep = c.rewriteRequestCookie(append(out, "cookie: "...), h.Value.Of(head))
			out = endHeader(out, mark, keep)
			continue
		}
		out = h1.AppendLower(out, name)
		out = append(out, ": "...)
		out = append(out, h.Out(head)...)
		out = append(out, "\r\n"...)
	}
	if h := s.fe.uniqueHdr; h != nil {
		// Before X-Forwarded-For, as HAProxy adds it.
		id, _ := s.UniqueID()
		out = append(out, h...)
		out = append(out, ": "...)
		out = append(out, id...)
		out = append(out, "\r\n"...)
	}
	out = s.appendForwarded(out, head, be)
	out = s.appendFCGI(out)
	switch {
	case upgrade:
	case req.Minor == 0 && req.HasTE:
		// Closing anyway: HTTP/1.0 says so without a header.
	case req.Connect && req.HasTE:
		// A coding on a CONNECT, which has no body: HAProxy's H1 side
		// takes it for one it cannot frame, and closes after.
		out = append(out, "connection: close\r\n"...)
	case mode != modeKeepAlive && be.pretendKA:
		// http-pretend-keepalive: the request is written as in
		// keep-alive mode, the close that follows the answer untold.
		if req.Minor == 0 {
			out = append(out, "connection: keep-alive\r\n"...)
		}
	case req.Minor == 0 && mode != modeKeepAlive:
	case mode != modeKeepAlive:
		out = append(out, "connection: close\r\n"...)
	case req.Minor == 0:
		out = append(out, "connection: keep-alive\r\n"...)
	}
	if chunked {
		out = append(out, "transfer-encoding: chunked\r\n"...)
	}
	if sendName != "" {
		// Last, as HAProxy's multiplexer adds it when the head ends.
		out = append(out, sendName...)
		out = append(out, ": "...)
		out = append(out, srv.Name...)
		out = append(out, "\r\n"...)
	}
	if wsKey != nil {
		out = append(out, "Sec-Websocket-Key: "...)
		out = append(out, wsKey...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "\r\n"...)
	be.caseSrv.adjust(out)
	return out
}

func (s *session) buildResponse(rhead []byte, closeClient bool, upgrade bool) []byte {
	rsp := &s.rsp
	out := s.out[:0]
	bodiless := rsp.Status < 200 || rsp.Status == 204
	clSeen := false
	// An HTTP/2 server's answer to an HTTP/1 client (h2ToH1), to an
	// HTTP/2 one (h2ToH2): HTTP/2 clients get no chunking.
	h2ToH1, chunked := !s.h2Stream && s.rspH2, false
	h2ToH2, emptyChunked := s.h2Stream && s.rspH2, false
	if rsp.Minor == 0 {
		// Below 1.1 the version goes as the server wrote it.
		out = append(out, rsp.Version.Of(rhead)...)
		out = append(out, ' ')
	} else {
		out = append(out, "HTTP/1.1 "...)
	}
	out = append(out, rsp.Code.Of(rhead)...)
	out = append(out, ' ')
	out = append(out, rsp.Reason.Of(rhead)...)
	out = append(out, "\r\n"...)
	for _, h := range rsp.Headers {
		name := h.Name.Of(rhead)
		if s.compOn() {
			var done bool
			if out, done = s.zs.editHeader(out, name, h.Value.Of(rhead)); done {
				continue
			}
		}
		if len(name) == 10 && h1.EqualFold(name, "connection") {
			out = appendConnection(out, h.Value.Of(rhead))
			continue
		}
		if (h2ToH1 || h2ToH2) && string(name) == "Content-Length" {
			// An HTTP/2 answer ended with its head (madeUpLength):
			// HAProxy's HTTP/1 side sends it chunked, its HTTP/2 side
			// with no length.
			emptyChunked = h2ToH1
			continue
		}
		if len(name) == 14 && h1.EqualFold(name, "content-length") {
			// Transfer-Encoding wins over Content-Length, and a
			// bodiless status has neither in HTTP/1 (HTTP/2 keeps its
			// Content-Length, as HAProxy's h2 layer does); the first
			// value goes as written.
			if rsp.HasTE || bodiless && !s.h2Stream || clSeen {
				continue
			}
			clSeen = true
			out = append(out, "content-length: "...)
			out = append(out, rsp.CLValue.Of(rhead)...)
			out = append(out, "\r\n"...)
			continue
		}
		if bodiless && len(name) == 17 && h1.EqualFold(name, "transfer-encoding") {
			continue
		}
		if h2ToH1 && string(name) == "transfer-encoding" {
			// The chunking of an HTTP/2 server's answer without a
			// length: HAProxy's H1 side adds it when the head ends,
			// after what rules added and the connection header.
			chunked = true
			continue
		}
		if c := s.ck; c != nil && s.prst != prstIgnore && len(name) == 10 && h1.EqualFold(name, "set-cookie") {
			mark := len(out)
			var keep bool
			v := h.Value.Of(rhead)
			ours := len(v) > len(c.name) && string(v[:len(c.name)]) == c.name && v[len(c.name)] == '='
			if ours {
				s.ckSrvSet = true
			}
			out, keep = c.rewriteSetCookie(append(out, "set-cookie: "...), v, s.ckVal)
			if ours {
				// The log's server cookie flag (TX_SCK_*).
				sck := logging.TxSckFound
				switch {
				case !keep:
					sck = logging.TxSckDeleted
				case (c.mode == ckRewrite || c.mode == ckPrefix) && s.ckVal != "":
					sck = logging.TxSckReplaced
				}
				s.ckTx = s.ckTx&^logging.TxSckMask | sck
			}
			out = endHeader(out, mark, keep)
			continue
		}
		out = h1.AppendLower(out, name)
		out = append(out, ": "...)
		out = append(out, h.Out(rhead)...)
		out = append(out, "\r\n"...)
	}
	if s.ckInsert && rsp.Status >= 200 && !(s.ckSrvSet && s.ck.preserve) {
		out = append(out, "set-cookie: "...)
		out = s.ck.appendSetCookie(out, s.ckVal, s.ckDates, time.Now().Unix())
		out = append(out, "\r\n"...)
		sck := logging.TxSckInserted
		if s.ckVal != "" && s.ckDirect {
			// Same server: only the dates were refreshed.
			sck = logging.TxSckUpdated
		}
		s.ckTx = s.ckTx&^logging.TxSckMask | sck
		if s.ckPrivate {
			// cookie nocache: no cache may keep the cookie with it.
			out = append(out, "cache-control: private\r\n"...)
		}
	}
	if s.compOn() {
		out = s.zs.appendAdds(out)
	}
	switch {
	case upgrade || rsp.Status < 200:
	case rsp.Conn&h1.ConnUpgrade != 0:
		// An answer whose Connection names "upgrade" keeps it as it is
		// (h1_update_res_conn_value).
	case closeClient:
		if rsp.Minor != 0 {
			// An HTTP/1.0 answer closes without saying so.
			out = append(out, "connection: close\r\n"...)
		}
	case !closeClient && (s.req.Minor == 0 || rsp.Minor == 0):
		out = append(out, "connection: keep-alive\r\n"...)
	}
	if !s.h2Stream && !emptyChunked && rsp.Body == h1.BodyNone && !rsp.HasCL && !rsp.HasTE && rsp.Minor == 1 && !bodiless &&
		rsp.Status != 304 && !s.clientHEAD {
		// An answer that ended with its head (a bodiless status a rule
		// changed): HAProxy's HTTP/1 side sends it chunked.
		emptyChunked = true
	}
	if s.rspRechunk && !bodiless && !s.clientHEAD && !s.compOn() && (s.h2Stream && rsp.Body == h1.BodyChunked || !s.h2Stream && rsp.Minor != 0) {
		// An answer whose length a rule removed: HAProxy's HTTP/1 side
		// chunks it; its HTTP/2 side sends it with no length, which the
		// stream learns from a chunked body's framing.
		chunked = true
	}
	if chunked || emptyChunked {
		out = append(out, "transfer-encoding: chunked\r\n"...)
	}
	if !s.h2Stream && rsp.IsWebSocket(rhead) && rsp.WSAccept.Len() == 0 {
		// HAProxy's H1 side completes a WebSocket answer without its
		// key with one made from the client's key, or from none.
		var zero [24]byte
		key := zero[:]
		if r := s.txn.Req; r != nil && r.IsWebSocket(s.txn.Buf) {
			key = r.WSKey.Of(s.txn.Buf)
		}
		out = append(out, "Sec-Websocket-Accept: "...)
		out = append(out, h1.WebSocketAccept(key)...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "\r\n"...)
	s.fe.caseCli.adjust(out)
	if emptyChunked {
		// The empty chunked body, with the head.
		out = append(out, "0\r\n\r\n"...)
	}
	return out
}

// handHead gives the HTTP/2 stream the session serves the response head
// as parsed, for the write that out (headLen bytes of head) starts, so
// that the stream encodes rsp instead of parsing out's head again. Only
// a head that buildResponse renders field for field qualifies: none
// that compression or a persistence cookie edits, nor one that the
// stream's parser would refuse (too many fields, fields that only
// accept-invalid-http-response lets in), nor one a trace or the cache
// sees as written. rhead must stay as it is until the write: a chunked
// body is read into the server buffer before its first write.
func (s *session) handHead(rhead []byte, rsp *h1.Msg, headLen int) {
	cl := &s.cl
	if !s.h2Stream || s.compOn() || s.ck != nil || cl.tap != nil || cl.trace != nil || cl.discard ||
		rsp.Status < 200 || rsp.Status == 101 || len(rsp.Headers) >= s.fe.maxHdr ||
		s.logBe != nil && s.logBe.acceptInvalidRsp {
		return
	}
	mc, ok := cl.c.(*memConn)
	if !ok {
		return
	}
	s.ph = parsedHead{n: headLen, buf: rhead, m: rsp, dropCL: rsp.HasTE || s.madeUpLength(rhead, rsp)}
	mc.head = &s.ph
	if f := headHanded.Load(); f != nil {
		(*f)()
	}
}

// headHanded is the tests' view of handHead (OnHeadHanded).
var headHanded atomic.Pointer[func()]

// dropHead takes back a head handHead gave that no write took.
func (s *session) dropHead() {
	if !s.h2Stream {
		return
	}
	if mc, ok := s.cl.c.(*memConn); ok {
		mc.head = nil
	}
}

// readResponse reads a response head at the start of the server buffer.
// It returns the head length or the status to answer instead (502, 504),
// with retry set when nothing at all came back on a reused connection.
func (s *session) readResponse() (hl, status int, empty bool) {
	sv := &s.sv
	sv.compact()
	sv.read = int64(sv.w)
	s.rspFail = rspJunk
	s.rspH2 = s.svH2()
	for {
		if sv.w > 0 {
			var err error
			if s.rspH2 {
				// The HTTP/2 layer's own output: values keep their
				// blanks, as HAProxy passes an HTTP/2 answer's on.
				err = h1.ParseOwnResponse(sv.buf[:sv.w], &s.rsp, math.MaxInt)
			} else if be := s.logBe; be != nil && be.acceptInvalidRsp {
				err = h1.ParseResponseLax(sv.buf[:sv.w], &s.rsp, s.fe.maxHdr)
			} else {
				err = h1.ParseResponse(sv.buf[:sv.w], &s.rsp, s.fe.maxHdr)
			}
			if err == nil {
				hl := s.rsp.HeadLen
				if htxCost(&s.rsp, false) > s.fe.htxLimit {
					return 0, 502, false
				}
				// A bad chunked body that is already here is refused
				// before the head goes out, as HAProxy parses it first.
				if s.rsp.Body == h1.BodyChunked && sv.w > hl && !s.sentHEAD {
					if _, err := checkChunked(sv.buf[hl:sv.w], &s.chunks().tm, s.rspMaxHdr(), s.fe.bufSize); err != nil {
						return 0, 502, false
					}
				}
				return hl, 0, false
			}
			if err != h1.ErrIncomplete {
				return 0, 502, false
			}
		}
		if sv.w >= s.fe.bufSize {
			return 0, 502, false
		}
		if err := sv.fill(); err != nil {
			if isTimeout(err) {
				s.rspFail = rspTimeout
				return 0, 504, false
			}
			// A head cut short by the close counts as none, as in
			// HAProxy, where the HTTP/1 side drops it.
			switch {
			case errors.Is(err, io.EOF):
				s.rspFail = rspClosed
			default:
				s.rspFail = rspReset
			}
			return 0, 502, sv.read == 0
		}
	}
}

// rspFailure is why readResponse found no response head.
type rspFailure uint8

const (
	// rspJunk: what came does not parse, or is too large.
	rspJunk rspFailure = iota
	// rspTimeout: nothing complete before the server timeout.
	rspTimeout
	// rspClosed: the server closed before the end of the head.
	rspClosed
	// rspReset: the connection failed before the end of the head.
	rspReset
)

// l7Retryable says whether the failed answer of readResponse (status set)
// or the response head (status 0) is retried under retry-on, as
// http_wait_for_response decides; a connection reset without a byte is
// an empty response, as HAProxy's HTTP/1 side reports it.
func (s *session) l7Retryable(be *Backend, status int) bool {
	r := be.retryOn
	if status == 0 {
		return r.Status(s.rsp.Status)
	}
	switch s.rspFail {
	case rspJunk:
		return r&parser.RetryJunkResponse != 0
	case rspTimeout:
		return r&parser.RetryResponseTimeout != 0
	case rspClosed, rspReset:
		return r&parser.RetryEmptyResponse != 0
	}
	return false
}

// parse reads the request head cl.buf[:hl] and refuses what cannot be
// served; it reports whether the request goes on.
func (s *session) parse(hl int) bool {
	cl := &s.cl
	head := cl.buf[:hl]
	req := &s.req
	if err := s.perr; err != nil {
		s.perr = nil
		if err == h1.ErrPreface && s.reqs == 0 && !s.src.IsValid() && s.l.bind.Proto != "h1" && s.switchProto != "h1" && !s.fe.noH2Upgrade {
			// HAProxy's HTTP/1 side switches to HTTP/2 on the preface;
			// serveHTTP does it once out of the readiness wait, whose
			// hold on the socket's reads would block HTTP/2's.
			s.h2Pre = append([]byte(nil), cl.buf[:cl.w]...)
			return false
		}
		if !s.h2Stream {
			// HAProxy's h1 side makes a stream to answer a bad head.
			fe := s.e.g.feCounters(s.fe)
			fe.h1Stream(1)
			defer fe.h1Stream(-1)
		}
		if err == h1.ErrPreface {
			// Not upgraded, "PRI * HTTP/2.0" is a request whose method
			// HAProxy's stream refuses: the stream's 400.
			s.streamConnect()
			s.refuse(400, s.fe.Errors.stream(400, true), false)
			return false
		}
		code := 400
		var he *h1.Error
		if errors.As(err, &he) {
			code = he.Status
			if he.Late {
				s.streamConnect()
				s.refuse(code, s.fe.Errors.stream(code, true), false)
				return false
			}
		}
		s.refuse(code, s.fe.Errors.raw(code), true)
		return false
	}
	if htxCost(req, true) > s.fe.htxLimit {
		s.refuse(400, s.fe.Errors.raw(400), true)
		return false
	}
	cl.r = hl
	s.reqs++
	s.killed.Store(false)
	if s.fe.Client == 0 && s.fe.HTTPRequest > 0 {
		// The head's deadline must not bound the body.
		cl.c.SetReadDeadline(time.Time{})
	}
	// An HTTP/1 WebSocket handshake needs a key HAProxy can keep: 24
	// bytes (h1_search_websocket_key).
	if !s.h2Stream && req.IsWebSocket(head) && req.WSKey.Len() != 24 {
		s.refuse(400, s.fe.Errors.raw(400), true)
		return false
	}
	// A malformed chunked body that is already here is refused before a
	// server is chosen, as HAProxy's parser sees it first.
	s.chunkedDone = false
	if req.Body == h1.BodyChunked && cl.w > cl.r {
		done, err := checkChunked(cl.buf[cl.r:cl.w], &s.chunks().tm, s.reqTrailerMax(), s.fe.bufSize)
		if err != nil {
			s.refuse(400, s.fe.Errors.raw(400), true)
			return false
		}
		s.chunkedDone = done
	}
	s.streamConnect()
	return true
}

// streamConnect is logConnect for the stream an HTTP request starts:
// HAProxy logs one "Connect from" line per stream.
func (s *session) streamConnect() {
	if !s.upgraded {
		s.logConnect()
	}
}

// transaction serves the parsed request whose head is cl.buf[:hl] and
// logs its stream; it reports whether the client connection may carry
// another one.
func (s *session) transaction(hl int) bool {
	s.txStatus, s.txFlags = 0, 0
	s.takeUniq()
	headAt, headAtW := s.headAt, s.headAtW
	s.headAt = time.Time{}
	s.beAssigned, s.feRejected, s.srvStatus, s.noServer = false, false, 0, false
	s.abort = 0
	s.txn.RspBuf, s.txn.Rsp = nil, nil
	s.txn.FeName, s.txn.BeName, s.txn.SrvName = s.fe.Name, s.fe.Name, ""
	s.txn.BackConn = false
	s.txn.Src, s.txn.Dst, s.txn.ConnSrc, s.txn.ConnDst = s.sessSrc, s.sessDst, s.sessConnSrc, s.sessConnDst
	if !s.upgraded {
		// A stream switched to HTTP keeps what its TCP part set.
		s.txn.ClearVars(acl.ScopeTxn, acl.ScopeReq, acl.ScopeRes)
	}
	if s.track {
		switch {
		case !headAt.IsZero() && hl <= headAtW:
			s.lt.request = headAt
		case s.h2Stream && s.reqs == 1:
			// Whole when the stream started (rawHead).
			s.lt.request = s.lt.start
		default:
			s.lt.request = time.Now()
		}
		if s.lt.first.IsZero() {
			// Pipelined: the request was already here.
			s.lt.first = s.lt.start
		}
	}
	// http-use-proxy-header: a target that is not a path or '*' (an
	// HTTP/2 target is absolute) is a proxied request.
	uri := s.req.URI.Of(s.cl.buf[:hl])
	s.txn.ProxyAuth = s.fe.proxyHdr && (s.txn.Origin != "" || len(uri) > 0 && uri[0] != '/' && uri[0] != '*')
	s.txn.SchemeHTTP = s.h2SchemeHTTP || !s.h2Stream && !s.req.Connect && absoluteHTTP(uri)
	s.captureRequest(s.cl.buf[:hl], &s.req)
	s.logBe = nil
	s.txn.Dir = acl.DirReq
	if !s.h2Stream {
		fe := s.e.g.feCounters(s.fe)
		fe.h1Stream(1)
		defer fe.h1Stream(-1)
	}
	s.stickStreamStart()
	if len(s.fe.traces) > 0 {
		s.traceStart()
	}
	keep := s.serveTxn(hl)
	if s.tracing() {
		s.traceStop()
	}
	s.cacheEnd()
	if st := s.txStatus; st != 0 {
		s.stickStreamEnd(st)
	} else {
		s.stickStreamEnd(s.rsp.Status)
	}
	if s.logBe != nil && !s.handedOff {
		// HAProxy logs once the stream left its backend and server; a
		// tunnel's stream leaves it when the tunnel ends.
		s.logBe.conns.Add(-1)
	}
	if s.track {
		status := s.txStatus
		if status == 0 {
			status = s.rsp.Status
		}
		// A connection kept for another stream starts it at this
		// reading: there it is a whole one, for the wall clock.
		if s.h2Stream || !keep {
			s.lt.end = s.lt.now()
		} else {
			s.lt.end = time.Now()
		}
		s.countStream(status)
		s.logStream(s.txFlags, status)
		s.beginStream(s.lt.end)
	}
	// The next request is a new stream, with the listener's priority.
	s.resetNice()
	// An HTTP/2 stream carries one request: its end is not waited for.
	return keep && !s.h2Stream
}

func (s *session) serveTxn(hl int) bool {
	cl := &s.cl
	head := cl.buf[:hl]
	// The client's method, before any rule: its response has no body.
	clientHead := s.req.Method.Len() == 4 && string(head[s.req.Method.Off:s.req.Method.End]) == "HEAD"
	s.clientHEAD = clientHead
	// A server's "redir" takes the requests that came as GET or HEAD
	// (SF_REDIRECTABLE).
	redirectable := clientHead || s.req.Method.Len() == 3 && string(head[s.req.Method.Off:s.req.Method.End]) == "GET"
	s.reqBodyHTX = s.bodyHTX(&s.req, true, cl.w-hl)
	req := &s.req
	if s.track {
		// An HTTP/2 request's URI is absolute in HAProxy's message.
		s.reqWire, s.reqHTX = hl, htxHeadSize(head, req, true)+len(s.h2Origin)
	}
	s.txn.Buf, s.txn.Req = head, req
	s.be = nil
	s.ck = nil
	s.bodyDone = false
	s.txn.Body, s.txn.BodyDone, s.bodyWire = nil, false, 0
	s.bodyAborted = false
	s.txn.LastRuleFile, s.txn.LastRuleLine = "", 0
	s.txn.PrioClass, s.txn.PrioOffset = 0, 0
	if s.upgraded {
		// The frontend's content rules ran before the switch to HTTP.
		s.upgraded = false
	} else if !s.httpContentRules(&s.fe.tcp) {
		s.feRejected = true
		return false
	}
	if s.fe.bufferRequest {
		if done, keep := s.bufferBody(); done {
			return keep
		}
	}
	if s.used&scratchLegacy != 0 {
		s.legacy = legacyResult{}
	}
	if lr := s.fe.legacy; lr != nil && len(lr.req) > 0 {
		if head = s.rewriteRequest(lr.req, head); head == nil {
			return s.errorReply(s.denyStatus, true)
		}
		if s.legacy.tarpit {
			// reqtarpit: HAProxy 1.x's 500 after timeout tarpit.
			return s.legacyTarpit(s.fe.tarpit)
		}
	}
	if s.fe.monitorURI != "" && s.monitorMatch(head) {
		// HAProxy answers its own 200 page (503 when a monitor fail
		// condition matches), keeps the connection, and logs nothing.
		s.noLog = true
		s.e.g.feCounters(s.fe).addIntercepted()
		for _, c := range s.fe.monitorFail {
			if c.Eval(&s.txn) {
				return s.errorReply(503, true)
			}
		}
		return s.errorReply(200, true)
	}
	s.cliConn, s.cliConnSet = s.req.Conn, true
	if done, keep := s.requestRules(s.fe.reqRules, &head, true); done {
		return keep
	}
	if !s.restrictHeaderNames(s.fe.restrictHdr, &head) {
		return s.errorReply(403, true)
	}
	if done, keep := s.serveStats(s.fe.Name, nil, head); done {
		return keep
	}
	if s.cacheHitFound() {
		return s.serveHit(nil)
	}
	be := s.route()
	s.be = be
	if be == nil {
		return s.errorReply(503, true)
	}
	s.beAssigned = true
	s.assignBe(be)
	s.txn.BeName = be.Name
	s.txn.FCGIDocroot, s.txn.FCGIIndex = be.fcgiNames()
	if be != s.fe.own && !s.httpContentRules(&be.tcp) {
		return false
	}
	if be.bufferRequest && !s.fe.bufferRequest {
		if done, keep := s.bufferBody(); done {
			return keep
		}
	}
	if lr := be.legacy; lr != nil && lr != s.fe.legacy && len(lr.req) > 0 {
		if head = s.rewriteRequest(lr.req, head); head == nil {
			return s.errorReply(s.denyStatus, true)
		}
		if s.legacy.tarpit {
			return s.legacyTarpit(be.tarpit)
		}
	}
	if be != s.fe.own {
		if done, keep := s.requestRules(be.reqRules, &head, false); done {
			return keep
		}
		if !s.restrictHeaderNames(be.restrictHdr, &head) {
			return s.errorReply(403, true)
		}
	}
	if be.Name != s.fe.Name {
		if done, keep := s.serveStats(be.Name, be, head); done {
			return keep
		}
	}
	if s.cacheHitFound() {
		return s.serveHit(be)
	}
	mode := s.fe.ConnMode
	if be.ConnMode > mode {
		mode = be.ConnMode
	}
	if s.req.Conn&h1.ConnClose != 0 && s.cliConn&h1.ConnClose == 0 {
		// A close a rule added: HAProxy's server side reads it in the
		// head it sends, and closes that connection.
		mode = modeClose
	}
	if s.fe.capCookie != nil {
		s.used |= scratchRec
		s.rec.CliCookie = s.captureCookie(s.capCliCk[:0], head, req, "cookie")
		s.capCliCk = s.rec.CliCookie[:0]
	}
	s.ck, s.ckVal, s.ckInsert, s.ckSrvSet, s.ckTx = be.cookie, "", false, false, 0
	s.evalPersist(be)
	var persisted *backend.Server
	if be.cookie != nil {
		persisted, s.ckDates, s.ckTx = be.cookie.persistTarget(req, head, time.Now().Unix())
		if s.prst == prstIgnore {
			// The cookie is read, dates and all, but leads nowhere.
			persisted = nil
			if s.ckTx == logging.TxCkValid || s.ckTx == logging.TxCkInvalid {
				s.ckTx = logging.TxCkUnused
			}
		}
	}
	if s.bodyAborted {
		// The client left before the body it was waited for was in.
		s.txStatus, s.txFlags = -1, logging.SFErrCliCl|logging.SFFinstR
		return false
	}
	var srv *backend.Server
	var err error
	// With abortonclose, a client known to have closed is not queued:
	// its cancelled context makes the backend refuse to wait.
	ctx := context.Background()
	aborted := be.abortOnClose && s.clientClosed()
	var stopWatch func() bool
	if aborted {
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	} else if be.abortOnClose && s.fe.abortOnClose {
		// A close that comes later reaches the stream only when the
		// frontend has abortonclose too, as HAProxy's H1 layer reports it.
		ctx, stopWatch = s.watchClientClose(nil)
	}
	k := s.lbKey(be, head)
	if t := s.useServer(be); t != nil {
		// use-server wins over the cookie, which was still read.
		persisted = t
	}
	if be.stick != nil {
		if t := s.stickMatch(be, persisted != nil); t != nil {
			persisted = t
		}
	}
	if persisted != nil {
		srv, err = be.LB.AcquirePersist(ctx, be.Queue, persisted, k, s.prst == prstForce)
	} else if last := s.lastServer(be); last != nil {
		srv, err = be.LB.AcquireServer(ctx, be.Queue, last, k)
	} else {
		srv, err = be.LB.AcquireKey(ctx, be.Queue, k)
	}
	if stopWatch != nil && stopWatch() {
		aborted = true
	}
	if s.track && err == nil {
		s.lt.queue = s.lt.now()
	}
	if err != nil {
		if aborted && err == backend.ErrQueueTimeout {
			// The time in the queue is logged, up to the abort.
			s.txStatus, s.txFlags = -1, logging.SFErrCliCl|logging.SFFinstQ
			if s.track {
				s.lt.queue = s.lt.now()
			}
			return false
		}
		if be.disabled && s.track {
			// HAProxy refuses the stream before its request phase ends.
			s.lt.request = time.Time{}
		}
		s.noServer = err == backend.ErrNoServer
		return s.errorReply(503, true)
	}
	// A tunnel keeps the server slot until it ends.
	defer func() {
		if !s.handedOff && srv != nil {
			be.LB.Release(srv)
		}
	}()
	if srv.Redir != "" && redirectable {
		return s.serverRedirect(srv, head)
	}
	// A PROXY header carrying the stream's unique id is the stream's
	// own: its connection serves no other request.
	perStream := be.pp.get(srv).perStream()
	if perStream && s.sv.c != nil && s.svSrv == srv {
		s.closeServer()
	}
	sni := s.evalSNI(be, srv)
	key := s.connKeyFor(be, srv)
	reused := s.sv.c != nil && s.svSrv == srv && s.svKey == key && sameSNI(s.sv.c, sni)
	if reused {
		// The kept connection is the stream's too (attachServer says
		// so of the others).
		s.txn.BackConn, s.txn.BackErr = true, 0
	} else {
		s.park()
		if pc, ok := s.unpark(srv, be, sni, key, perStream); ok {
			s.attachServer(pc.c, srv, be, pc.counted)
			s.sv.rc, s.svUses, s.svPrivate = pc.rc, pc.uses, pc.private
			reused = true
		} else {
			s.redisp.allowed = true
			c, got, err := s.connectServer(be, srv, k, srv == persisted, 0)
			s.redisp.allowed = false
			srv = got
			if err != nil {
				return s.connectFailed(srv, err)
			}
			if s.redisp.hit {
				pc := s.redisp.pc
				s.redisp.pc, s.redisp.hit = pooledConn{}, false
				s.attachServer(pc.c, srv, be, pc.counted)
				s.sv.rc, s.svUses, s.svPrivate = pc.rc, pc.uses, pc.private
				reused = true
			} else {
				s.attachServer(c, srv, be, false)
			}
		}
	}
	s.connected(srv, reused)
	// The cookie follows the server finally used, a redispatch included.
	if c := be.cookie; c != nil {
		s.ckVal = c.valOf(srv)
		isPost := req.Method.Len() == 4 && string(head[req.Method.Off:req.Method.End]) == "POST"
		s.ckInsert = s.prst != prstIgnore && c.wantInsert(srv == persisted, s.ckDates, isPost, time.Now().Unix())
		s.ckDirect = srv == persisted
		if s.ckTx == logging.TxCkValid && (!s.ckDirect || srv.Stopped()) {
			// The cookie's server was down: the request went elsewhere,
			// or there all the same with option persist.
			s.ckTx = logging.TxCkDown
		}
	}
	isHead := req.Method.Len() == 4 && string(head[req.Method.Off:req.Method.End]) == "HEAD"
	s.sentHEAD = isHead
	// The client side's mode is the frontend's: a backend's httpclose
	// closes the server side only (h1_set_cli_conn_mode).
	closeClient := !s.clientKeepAlive() || s.fe.ConnMode == modeClose || req.HasTE && req.HasCL
	upgrade := req.Conn&h1.ConnUpgrade != 0 && req.Upgrade.Len() > 0
	s.compRequest(head, be)
	out := s.buildRequest(head, be, srv, mode)
	if len(be.traces) > 0 || s.tracing() {
		s.traceRequest(be, out)
	}
	// A body that is already here goes out with the head, in one write.
	bodyDone := req.Body == h1.BodyNone
	if req.Body == h1.BodyLength && int64(cl.w-cl.r) >= req.Length && len(out)+int(req.Length)+24 <= cap(out) {
		if s.reqRechunk {
			// One chunk and the last (copyLeftChunked).
			out = append(appendChunkSize(out, req.Length), "\r\n"...)
			out = append(append(out, cl.buf[cl.r:cl.r+int(req.Length)]...), endData...)
		} else {
			out = append(out, cl.buf[cl.r:cl.r+int(req.Length)]...)
		}
		cl.r += int(req.Length)
		bodyDone = true
		s.bodyDone = true
	}
	s.out = out
	sv := &s.sv
	// A request that goes out whole waits for the answer's readiness.
	whole := bodyDone
	// A chunked body buffered whole cannot be sent again on another
	// connection: it is consumed as it goes.
	noReplay := false
	// With abortonclose, a client that leaves while the server thinks
	// aborts the exchange: the server connection is closed.
	var stopCW func() bool
	if be.abortOnClose && s.fe.abortOnClose && bodyDone {
		sc := sv.c
		_, stopCW = s.watchClientClose(func() { sc.SetReadDeadline(time.Now()) })
		defer func() {
			if stopCW != nil {
				stopCW()
			}
		}()
	}
	for attempt := 0; ; attempt++ {
		var err error
		switch {
		case req.Body == h1.BodyChunked && s.chunkedDone:
			// The head and the re-framed body in one write, inside the
			// server's readiness wait, as HAProxy sends them. A body
			// whose trailers are still to come takes the streaming
			// path: HAProxy forwards the head and the data it parsed,
			// and answers the server's early close or response while it
			// waits for the rest.
			if s.track {
				// All buffered: as for a whole body, nothing waits
				// between the connection and the write.
				sv.clock = s.lt.connect
			}
			err = copyChunked(cl, sv, s.chunks(), s.reqTrailerMax(), s.fe.bufSize, out, true)
			sv.clock = time.Time{}
			if err == nil {
				bodyDone, s.bodyDone, noReplay = true, true, true
			}
		case whole:
			if s.track {
				// Read once connected: nothing waits in between.
				sv.clock = s.lt.connect
			}
			err = sv.sendAwait(out)
		default:
			err = sv.send(out)
		}
		if err != nil {
			if s.clientBodyFailed(err) {
				// The client's part: the trailers waited for were bad,
				// or did not come.
				s.closeServer()
				return false
			}
			if reused && attempt == 0 && bodyDone && !noReplay {
				if s.redial(be, srv) {
					continue
				}
			}
			s.closeServer()
			return s.errorReply(502, false)
		}
		break
	}
	// retry-on beyond conn-failure sends the request again when its
	// answer fails: only one that went out whole in its first write, as
	// HAProxy keeps a copy of a request sent complete.
	replay := be.HTTP && be.retryOn&parser.RetryL7 != 0 && bodyDone && !noReplay && len(out) > 0
	// early: the server answered while the body was being sent.
	// Expect: 100-continue changes nothing to the forwarding, as in
	// HAProxy: the body goes as it comes, the client sending it at once
	// or after the server's 100 Continue, which is relayed meanwhile.
	early := false
	if !bodyDone {
		var stop, keep bool
		if bodyDone, early, stop, keep = s.bodyStep(be, srv, false); stop {
			return keep
		}
	}
	if bodyDone && s.tracing() {
		s.traceRequestEnd()
	}
	var rhl int
	for attempt := 0; ; attempt++ {
		var status int
		var empty bool
		rhl, status, empty = s.readResponse()
		if stopCW != nil {
			if stopCW() {
				s.closeServer()
				s.txStatus, s.txFlags = 400, logging.SFErrCliCl|logging.SFFinstH
				return false
			}
			stopCW = nil
		}
		if s.track && status == 0 {
			s.lt.rsp = s.lt.now()
		}
		if status != 0 && empty && reused && attempt == 0 && bodyDone && len(out) > 0 && !noReplay {
			// The kept connection was closed by the server: once again
			// on a new one.
			if s.redial(be, srv) {
				if sv.send(out) == nil {
					continue
				}
			}
		}
		if status != 0 && s.rspFail == rspJunk {
			// An answer that does not parse counts before its retry.
			srv.HealthAdjust(backend.HanaHTTPHdrRsp)
		}
		if replay && !s.noL7Retry && (status != 0 || s.rsp.Status >= 200) && s.l7Retryable(be, status) {
			ok, err := s.retryL7(be, &srv, k, srv == persisted, out)
			if ok {
				reused = false
				continue
			}
			if err != nil {
				s.closeServer()
				if srv == nil {
					return s.errorReply(503, true)
				}
				return s.connectFailed(srv, err)
			}
		}
		switch {
		case status == 0:
			srv.HealthAdjust(backend.HanaStatus(s.rsp.Status))
		case s.rspFail == rspTimeout:
			srv.HealthAdjust(backend.HanaHTTPReadTimeout)
		case s.rspFail == rspClosed || s.rspFail == rspReset:
			srv.HealthAdjust(backend.HanaHTTPBrokenPipe)
		}
		if status != 0 {
			if s.h2Failed() {
				return false
			}
			if s.rspFail == rspClosed || s.rspFail == rspReset {
				s.fatalAlert()
			}
			s.closeServer()
			keep := s.errorReply(status, bodyDone)
			if s.rspFail == rspClosed || s.rspFail == rspReset {
				// The server closed before its answer's head: SH.
				s.txFlags = logging.SFErrSrvCl | logging.SFFinstH
			}
			return keep
		}
		st := s.rsp.Status
		if st >= 200 || st == 101 {
			s.srvStatus = st
			break
		}
		// Interim responses are relayed as they come.
		if err := cl.send(s.buildResponse(sv.buf[:rhl], false, false)); err != nil {
			return false
		}
		sv.r = rhl
		if st == 100 && early && !bodyDone {
			// The server's 100 Continue stopped the body, which the
			// client may send now: the rest goes on.
			var stop, keep bool
			if bodyDone, early, stop, keep = s.bodyStep(be, srv, true); stop {
				return keep
			}
		}
	}
	rhead := sv.buf[:rhl]
	s.rspBodyHTX, s.rspHL = s.bodyHTX(&s.rsp, false, sv.w-rhl), rhl
	if len(be.tcp.response) > 0 && !s.httpResponseContentRules(be) {
		// A tcp-response reject or close: the client gets nothing.
		s.closeServer()
		return false
	}
	if s.rsp.Status == 101 && s.rsp.IsWebSocket(rhead) && s.rsp.WSAccept.Len() == 0 {
		// A WebSocket switch without its key: HAProxy's HTTP/1 side
		// refuses the response, whatever the request asked.
		s.closeServer()
		return s.errorReply(502, bodyDone)
	}
	if st := s.rsp.Status; (st == 401 || st == 407) && !s.svPrivate && connAuth(rhead, &s.rsp) {
		// A connection-bound authentication: the server connection stays
		// with the session and takes its next requests.
		s.svPrivate, s.preferLast = true, true
	}
	s.compResponse(rhead)
	s.captureResponse(rhead, &s.rsp)
	rsp := &s.rsp
	for _, lr := range [2]*legacyRules{be.legacy, s.fe.legacy} {
		if lr == nil || len(lr.rsp) == 0 {
			continue
		}
		var res legacyResult
		nh, err := rewriteHead(lr.rsp, &s.txn, rsp, rhead, false, s.rwBuf(&s.rwr), &res)
		if err != nil {
			s.closeServer()
			return s.errorReply(502, bodyDone)
		}
		s.rwr, rhead = nh, nh
		if lr == s.fe.legacy {
			// A listen section's filters run once.
			break
		}
	}
	s.txn.RspBuf, s.txn.Rsp = rhead, rsp
	s.stickStatus(rsp.Status)
	if be.stick != nil {
		s.stickStore(be, srv)
	}
	// http-response rules: the backend's, then the frontend's.
	for i, rules := range [2][]httpRule{be.rspRules, s.fe.rspRules} {
		if len(rules) == 0 || i == 1 && be == s.fe.own {
			continue
		}
		conn0 := rsp.Conn
		nh, res, keep := s.runRules(rules, rhead, false, rsp)
		s.noteLastRule(res)
		if rsp.Conn&h1.ConnClose != 0 && conn0&h1.ConnClose == 0 {
			// A close a rule added: HAProxy's client side reads it in
			// the answer it sends, and closes after.
			closeClient = true
		}
		if res == ruleAnswered || res == ruleBad || res == ruleErr || res == ruleTimeout {
			if s.track {
				// HAProxy counted the server's answer as it came, the
				// head and the body read with it, before this one.
				s.rspPre = htxHeadSize(rhead, rsp, false) + min(sv.w-rhl, max(s.rspBodyHTX-8, 0))
			}
			s.closeServer()
			if res == ruleBad {
				return s.errorReply(502, bodyDone)
			}
			if res == ruleErr {
				return s.errorReply(500, bodyDone)
			}
			if res == ruleTimeout {
				return s.errorReply(504, bodyDone)
			}
			return keep && bodyDone
		}
		rhead = nh
		if res == ruleAllow {
			continue
		}
	}
	if blocked, keep := s.checkCache(be, req.Method.Of(head), rhead, sv.w-rhl, bodyDone); blocked {
		return keep
	}
	rhead = s.applyAfter(rhead, rsp)
	if rsp.Status == 101 || req.Connect && rsp.Status >= 200 && rsp.Status < 300 {
		// A protocol switch, or a CONNECT that succeeded: both
		// connections become a tunnel.
		// A switch needs an upgrade asked for and agreed to, the
		// answer's Connection saying "upgrade" too.
		if !upgrade && !req.Connect || rsp.Status == 101 && rsp.Conn&h1.ConnUpgrade == 0 {
			s.closeServer()
			return s.errorReply(502, bodyDone)
		}
		out := s.buildResponse(rhead, false, true)
		if s.track {
			s.rspWire, s.rspHTX = len(out), htxHeadSize(rhead, rsp, false)
		}
		if cl.send(out) != nil {
			return false
		}
		// The tunnel owns both connections from here; svConn stays set so
		// that a hard stop can still close it.
		c := sv.c
		s.sv.setConn(nil, nil)
		s.uncountServer()
		s.svSrv = nil
		tunnelTO, serverTO := be.Tunnel, be.Server
		if s.toTunnel > 0 {
			tunnelTO = s.toTunnel
		}
		if s.toServer > 0 {
			serverTO = s.toServer
		}
		cfg := tunnelCfg{shared: tunnelTO > 0, idle: tunnelTO, client: s.fe.Client, server: serverTO,
			clientFin: s.fe.ClientFin, srvFin: be.ServerFin, indepC: s.fe.independent, indepS: be.independent,
			spliceUp: spliceMode(s.fe.splice, be.splice, true), spliceDown: spliceMode(s.fe.splice, be.splice, false), total: &s.e.splicedOut,
			fe: s.e.g.feCounters(s.fe), be: s.e.g.beCounters(be), srvEnds: !s.h2Stream}
		s.handedOff = true
		s.handOff(c, cfg, be, srv, cl.buf[cl.r:cl.w], sv.buf[rhl:sv.w])
		return false
	}
	if !bodyDone && !early {
		// The server answered without the body it was promised (an
		// expectation): where the next request starts is unknown.
		closeClient = true
	}
	body := rsp.Body
	if isHead || clientHead || s.rspDropBody {
		body = h1.BodyNone
	}
	if body == h1.BodyUntilClose || s.e.stopClose() || rsp.HasTE && rsp.Minor == 0 {
		// Transfer-Encoding in an HTTP/1.0 answer forces a close, as in
		// HAProxy.
		closeClient = true
	}
	out = s.buildResponse(rhead, closeClient, false)
	headLen := len(out)
	if s.tracing() {
		s.traceResponse(out)
	}
	if s.track {
		s.rspWire, s.rspHTX = len(out), htxHeadSize(rhead, rsp, false)
	}
	s.logASAP(rsp.Status, sv.w-rhl)
	sv.r = rhl
	if body == h1.BodyLength && !s.compOn() && !s.rspRechunk && int64(sv.w-sv.r) >= rsp.Length && len(out)+int(rsp.Length) <= cap(out) {
		out = append(out, sv.buf[sv.r:sv.r+int(rsp.Length)]...)
		sv.r += int(rsp.Length)
		body = h1.BodyNone
	}
	s.out = out
	if s.e.hard.Load() {
		s.closeServer()
		return false
	}
	if (clientHead || s.rspDropBody) && !isHead && skipBody(sv, rsp, s.chunks(), s.fe.maxHdr, s.fe.bufSize) != nil {
		s.closeServer()
	}
	if body == h1.BodyNone && (s.h2Stream || s.sharedServer()) {
		// As HAProxy's mux detaches the stream: the connection is idle
		// before the client sees the answer's end, for whichever client
		// comes next, also when this one leaves.
		// An HTTP/2 stream's connection stays, whatever its stream says.
		s.detachServer(mode, rsp, bodyDone, isHead, !closeClient || s.h2Stream)
	}
	// A chunked body goes with the head in its first write.
	if body != h1.BodyChunked || s.compOn() {
		if !clientHead && !s.rspDropBody || isHead {
			// A HEAD sent as another method, or an answer whose body a
			// rule's status dropped, has its body skipped first, read
			// over rhead.
			s.handHead(rhead, rsp, headLen)
		}
		err := cl.send(out)
		s.dropHead()
		if err != nil {
			s.closeServer()
			return false
		}
	}
	var berr error
	if s.compOn() && body != h1.BodyNone {
		body, berr = h1.BodyNone, s.relayCompressed(body)
	}
	s.spliceSides(be, false)
	switch body {
	case h1.BodyLength:
		if s.rspRechunk && !s.h2Stream && rsp.Minor != 0 {
			berr = copyLengthChunked(sv, cl, s.chunks(), rsp.Length)
			break
		}
		berr = copyLength(sv, cl, rsp.Length)
	case h1.BodyChunked:
		berr = copyChunked(sv, cl, s.chunks(), s.rspMaxHdr(), s.fe.bufSize, out, false)
	case h1.BodyUntilClose:
		berr = copyUntilClose(sv, cl)
	}
	sv.sp.on = false
	if berr != nil {
		s.closeServer()
		// A body the server cut short ends the client connection with
		// a FIN, as HAProxy ends it; a failed client write resets it.
		var b *bodyErr
		if !errors.As(berr, &b) || !b.src {
			setLinger0(s.cl.c)
		}
		s.responseBodyFailed(b)
		return false
	}
	if s.tracing() {
		s.traceResponseEnd()
	}
	if early && !closeClient && !s.finishBody(rsp.KeepAlive() && rsp.Body != h1.BodyUntilClose) {
		s.closeServer()
		return false
	}
	if !serverKept(mode, rsp, bodyDone, isHead, sv) {
		if body == h1.BodyUntilClose {
			// The server's end was read: nothing lingers.
			s.closeServer()
		} else {
			s.resetServer()
		}
	}
	s.svClean = s.sv.c != nil
	s.limitIdle()
	if s.svClean && s.sharedServer() {
		s.releaseServerAs(!s.FirstRequest(), !closeClient)
	}
	return !closeClient
}

// bodyStep sends the request body, the rest of it when resume, and says
// how that went: done, the server answered first (early), or the
// transaction ends (stop) with keep.
func (s *session) bodyStep(be *Backend, srv *backend.Server, resume bool) (done, early, stop, keep bool) {
	switch err := s.sendBody(be, resume); {
	case err == nil:
		return true, false, false, false
	case err == errServerTimeout:
		return false, false, true, s.bodyTimedOut(srv)
	case err != errServerEarly:
		return false, false, true, false
	}
	return false, true, false, false
}

// sendBody streams the request body to the server, from where an early
// answer stopped it when resume. On a client-side failure it answers as
// HAProxy does; either way the session ends.
func (s *session) sendBody(be *Backend, resume bool) error {
	if !resume {
		s.reqLeft = s.req.Length
	}
	var w *serverWatch
	if !(s.req.Body == h1.BodyLength && int64(s.cl.w-s.cl.r) >= s.reqLeft) {
		// The body has to wait for the client: meanwhile the server
		// may answer or close, and HAProxy relays that at once.
		w = s.watchServer(be)
		s.cl.stop = &w.fired
	}
	var err error
	if w != nil {
		// While the request goes to the server HAProxy does not expire
		// the client's side: the server's timeout ends the wait (504).
		to := s.cl.timeout
		s.cl.timeout = 0
		s.cl.c.SetReadDeadline(time.Time{})
		defer func() { s.cl.timeout = to }()
	}
	s.spliceSides(be, true)
	switch {
	case s.req.Body == h1.BodyLength && s.reqRechunk:
		err = copyLeftChunked(&s.cl, &s.sv, s.chunks(), &s.reqLeft)
	case s.req.Body == h1.BodyLength:
		err = copyLeft(&s.cl, &s.sv, &s.reqLeft)
	case s.req.Body == h1.BodyChunked && resume:
		s.chunks().cs = s.reqCS
		err = s.chunks().copy(&s.cl, &s.sv, s.fe.maxHdr, s.fe.bufSize, nil, false)
	case s.req.Body == h1.BodyChunked:
		err = copyChunked(&s.cl, &s.sv, s.chunks(), s.reqTrailerMax(), s.fe.bufSize, nil, false)
	}
	if w != nil {
		s.cl.stop = nil
	}
	if w != nil && w.stop(&s.sv) && w.timedOut.Load() {
		return errServerTimeout
	}
	if w != nil && w.fired.Load() {
		if err != nil {
			// The copy goes on after the answer (finishBody); the
			// answer's own re-framing needs the scanner meanwhile.
			s.reqCS = s.chunks().cs
			return errServerEarly
		}
		// The body was whole anyway: the client's reads go on.
		s.cl.c.SetReadDeadline(time.Time{})
	}
	if err == nil {
		s.bodyDone = true
		return nil
	}
	if b := (*bodyErr)(nil); errors.As(err, &b) && b.src && !b.framing && !b.timeout {
		// The client left in its body (return_cli_abort): no status.
		s.txStatus, s.txFlags = -1, logging.SFErrCliCl|logging.SFFinstD
		s.abort = abortClient
	}
	s.clientBodyFailed(err)
	s.closeServer()
	return err
}

// What cut a stream's body short, for its statistics (cli_abrt,
// srv_abrt, eresp).
const (
	abortClient = 1 + iota
	abortServer
	// abortServerError: the server's side failed (a close, an error, a
	// bad chunk), which counts as a failed response too.
	abortServerError
	// failedResponse: a failed response that is no abort (a bad chunk).
	failedResponse
)

// responseBodyFailed records a response body cut short once its head
// went to the client (b nil: the client's side failed), as HAProxy's
// http_response_forward_body and process_stream end the stream.
func (s *session) responseBodyFailed(b *bodyErr) {
	if s.txFlags&logging.SFErrMask != 0 {
		return
	}
	var flags uint32
	switch {
	case b == nil || !b.src:
		flags, s.abort = logging.SFErrCliCl|logging.SFFinstD, abortClient
		if b != nil && b.timeout {
			flags = logging.SFErrCliTO | logging.SFFinstD
		}
	case b.timeout:
		flags, s.abort = logging.SFErrSrvTO|logging.SFFinstD, abortServer
	default:
		flags, s.abort = logging.SFErrSrvCl|logging.SFFinstD, abortServerError
		if b.framing {
			s.abort = failedResponse
		}
		if s.tracking() {
			s.txn.IncHTTPFail()
		}
	}
	// HAProxy 2.6 counts an HTTP/2 stream's aborts but logs them "----".
	if !s.h2Stream {
		s.txFlags = flags
	}
}

// clientBodyFailed answers a request body that failed on the client's
// side as HAProxy does (400 for its framing, 408 when it stopped coming)
// and reports whether it was the client's side.
func (s *session) clientBodyFailed(err error) bool {
	var b *bodyErr
	if !errors.As(err, &b) || !b.src {
		return false
	}
	// The request was under way: the stream's error pages.
	switch {
	case b.framing:
		s.cl.send(s.errors().stream(400, true))
	case b.timeout:
		s.cl.send(s.errors().stream(408, true))
	}
	return true
}

// finishBody reads the rest of a request body whose answer came first,
// once that answer is relayed: it goes on to the server while the server
// takes it and is dropped otherwise, and the client connection carries
// its next request, as HAProxy does. False when the client failed.
func (s *session) finishBody(toServer bool) bool {
	s.cl.c.SetReadDeadline(time.Time{})
	s.sv.discard = !toServer || s.sv.c == nil
	defer func() { s.sv.discard = false }()
	s.chunks().cs = s.reqCS
	for {
		var err error
		switch s.req.Body {
		case h1.BodyLength:
			if s.reqRechunk && s.reqLeft > 0 {
				err = copyLeftChunked(&s.cl, &s.sv, s.chunks(), &s.reqLeft)
				break
			}
			err = copyLeft(&s.cl, &s.sv, &s.reqLeft)
		case h1.BodyChunked:
			err = s.chunks().copy(&s.cl, &s.sv, s.fe.maxHdr, s.fe.bufSize, nil, false)
		}
		var b *bodyErr
		if err != nil && errors.As(err, &b) && !b.src && !s.sv.discard {
			// The server is gone: the rest is read and dropped.
			s.sv.discard = true
			continue
		}
		if err != nil {
			return false
		}
		s.bodyDone = true
		return true
	}
}

// errServerEarly says the server answered or closed before the request
// body was sent whole.
var errServerEarly = errors.New("server answered before the end of the request body")

// errServerTimeout says the server's read timeout expired while the
// request body was being sent (option independent-streams).
var errServerTimeout = errors.New("server timeout during the request body")

// serverWatch waits for the server connection to become readable while
// the request body is streamed.
type serverWatch struct {
	// fired: the server became readable, or its timeout expired
	// (timedOut); stopping: stop ended the wait.
	fired, timedOut, stopping atomic.Bool
	done                      chan struct{}
}

// watchServer starts waiting for the server to answer or close; when it
// does, the client read in progress is interrupted. With the backend's
// "option independent-streams" the body sent does not refresh the
// server's read timeout, which then runs from the request's head on.
func (s *session) watchServer(be *Backend) *serverWatch {
	w := &serverWatch{done: make(chan struct{})}
	if s.sv.raw() != nil {
		close(w.done)
		return w
	}
	rc, cl := s.sv.rc, s.cl.c
	if s.sv.timeout > 0 {
		s.sv.c.SetReadDeadline(time.Now().Add(s.sv.timeout))
		if !be.independent {
			// What is sent to the server pushes its timeout back.
			s.sv.rdRefresh = s.sv.timeout
		}
	}
	go func() {
		defer close(w.done)
		err := rc.Read(func(fd uintptr) bool {
			var b [1]byte
			_, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
			return e != unix.EAGAIN
		})
		if err != nil && (w.stopping.Load() || !isTimeout(err)) {
			return
		}
		w.timedOut.Store(err != nil)
		w.fired.Store(true)
		cl.SetReadDeadline(time.Now())
	}()
	return w
}

// stop ends the wait and reports whether the server became readable or
// timed out.
func (w *serverWatch) stop(sv *side) bool {
	w.stopping.Store(true)
	sv.rdRefresh = 0
	sv.c.SetReadDeadline(time.Now())
	<-w.done
	sv.c.SetReadDeadline(time.Time{})
	return w.fired.Load()
}

// bodyTimedOut answers the server timeout that expired while the request
// body was being sent: a 504, and a reset to the server, as HAProxy
// does.
func (s *session) bodyTimedOut(srv *backend.Server) bool {
	s.rspFail = rspTimeout
	srv.HealthAdjust(backend.HanaHTTPReadTimeout)
	setLinger0(s.sv.c)
	s.closeServer()
	return s.errorReply(504, false)
}

func (s *session) redial(be *Backend, srv *backend.Server) bool {
	s.closeServer()
	if be.tls.get(srv) != nil || be.h2.get(srv) != nil {
		d := be.dialer()
		c, err := s.dialServer(&d, be, srv)
		if err != nil {
			return false
		}
		s.attachServer(c, srv, be, false)
		s.svUses = 1
		return true
	}
	c, err := s.connect(be, srv)
	if err != nil || s.sendProxyHeader(be, srv, c) != nil {
		return false
	}
	s.attachServer(c, srv, be, false)
	s.svUses = 1
	return true
}

// runTCP serves a "mode tcp" connection: inspect, pick a server,
// connect, relay.
func (s *session) runTCP() {
	if len(s.fe.traces) > 0 {
		s.traceTCPStart()
	}
	defer s.traceTCPEnd()
	// use_backend rules see the connection: no HTTP message here.
	s.txn.Req = &s.req
	start := time.Now()
	if !s.inspectContent(&s.fe.tcp, start) {
		return
	}
	if s.switchHTTP {
		s.upgradeHTTP()
		return
	}
	// The switching rules see what the inspection read (req.ssl_sni,
	// req.payload...), as the content rules did.
	s.txn.Payload, s.txn.Final = s.cl.buf[s.cl.r:s.cl.w], true
	be := s.route()
	s.txn.Payload, s.txn.Final = nil, false
	if be == nil {
		// No backend: HAProxy has read what the client sent, so its
		// close is a FIN, not the reset of a socket with unread data.
		s.drainClient()
		return
	}
	if be.HTTP {
		// A TCP frontend handing its stream to an HTTP backend
		// upgrades it, as HAProxy does.
		s.upgradeHTTP()
		return
	}
	s.logBe = be
	if len(be.traces) > 0 || s.tracing() {
		s.traceTCPBackend(be)
	}
	if !s.inspectContent(&be.tcp, time.Now()) {
		return
	}
	k := s.lbKey(be, nil)
	var srv *backend.Server
	var err error
	direct := false
	// The rules see what the client sent so far, as the content rules.
	s.txn.Payload, s.txn.Final = s.cl.buf[s.cl.r:s.cl.w], true
	s.evalPersist(be)
	t := s.useServer(be)
	s.txn.Payload, s.txn.Final = nil, false
	if t != nil {
		srv, err = be.LB.AcquireServer(context.Background(), be.Queue, t, k)
		direct = srv == t
	}
	if be.stick != nil {
		if t := s.stickMatch(be, srv != nil); t != nil && srv == nil && err == nil {
			srv, err = be.LB.AcquireServer(context.Background(), be.Queue, t, k)
			direct = srv == t
		}
	}
	if p := be.rdpPersist; p != "" && srv == nil && err == nil {
		if t := rdpPersistTarget(s.cl.buf[s.cl.r:s.cl.w], p, be.LB.ServerList()); t != nil {
			srv, err = be.LB.AcquireServer(context.Background(), be.Queue, t, k)
			direct = srv == t
		}
	}
	if srv == nil && err == nil {
		srv, err = be.LB.AcquireKey(context.Background(), be.Queue, k)
	}
	s.logBe = be
	if err != nil {
		if s.logging {
			s.logStream(logging.SFErrSrvCl|logging.SFFinstC, 0)
		}
		return
	}
	if s.logging {
		s.lt.queue = s.lt.now()
	}
	be.streams.Add(1)
	c, srv, err := s.connectServer(be, srv, k, direct, 0)
	if err != nil {
		if srv != nil {
			be.LB.Release(srv)
		}
		if s.logging {
			s.logSrv = srv
			if srv != nil {
				s.logSrvAddr = s.srvDst(srv, nil)
			}
			flags := logging.SFErrSrvCl | logging.SFFinstC
			if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
				// The connect timeout struck: "sC".
				flags = logging.SFErrSrvTO | logging.SFFinstC
			}
			s.logStream(flags, 0)
		}
		return
	}
	srv.HealthAdjust(backend.HanaL4OK)
	s.txn.BackConn, s.txn.BackErr, s.txn.BackTLS = true, 0, backTLS(c)
	if s.logging {
		s.lt.connect = s.lt.now()
		s.logSrv = srv
		s.logSrvAddr, s.logSrcAddr = s.srvDst(srv, c), addrPort(c.LocalAddr())
	}
	s.e.g.srvCounters(srv).addSession(time.Now())
	if be.stick != nil {
		s.stickStore(be, srv)
	}
	cfg := tunnelCfg{shared: be.Tunnel > 0, idle: be.Tunnel, client: s.fe.Client, server: be.Server,
		clientFin: s.fe.ClientFin, srvFin: be.ServerFin, indepC: s.fe.independent, indepS: be.independent,
		spliceUp: spliceMode(s.fe.splice, be.splice, true), spliceDown: spliceMode(s.fe.splice, be.splice, false), total: &s.e.splicedOut}
	// What the inspection read goes first.
	toServer, toClient := s.cl.buf[s.cl.r:s.cl.w], []byte(nil)
	if len(be.tcp.response) > 0 {
		var ok bool
		if toClient, ok = s.inspectResponse(c, be, toServer); !ok {
			c.Close()
			be.LB.Release(srv)
			if s.logging {
				s.logStream(logging.SFErrPrxCond|logging.SFFinstD, 0)
			}
			return
		}
		toServer = nil
	}
	s.handOff(c, cfg, be, srv, toServer, toClient)
}

// chunks is the session's chunk re-framing state, made on first use:
// most sessions see no chunked body.
func (s *session) chunks() *chunkOut {
	if s.co == nil {
		s.co = new(chunkOut)
	}
	return s.co
}
