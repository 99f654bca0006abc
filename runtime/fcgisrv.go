package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/parser/logfmt"
	"github.com/gohap/gohap/parser/smpuse"
	"github.com/gohap/gohap/runtime/fcgi"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// fcgiApp is a backend's fcgi-app (configuration.txt section 10), as
// HAProxy's FCGI filter and mux run it: the engine sends each request to
// a "proto fcgi" server as HTTP/1.1 on an fcgiVConn, which speaks
// FastCGI to the application.
type fcgiApp struct {
	name           string
	docroot, index string
	pathInfo       *regexp.Regexp
	keepConn       bool
	// servers are the backend's "proto fcgi" servers.
	servers map[*backend.Server]bool
	// params are the set-param rules by name in name order (HAProxy
	// keeps them in a tree); the last rule whose condition matches sets
	// the parameter.
	params []fcgiParamRules
	// pass are the hidden headers that pass-header rules may let
	// through.
	pass []fcgiPassRules
	// log receives STDERR ("log-stderr"), nil for nowhere.
	log *feLog
	// timeout is timeout server, for the application's records.
	timeout time.Duration
	version string
	// mpxs, getValues and maxReqs are option mpxs-conns, get-values and
	// max-reqs; pools hold each server's shared connections when
	// http-reuse lets engine connections share them.
	mpxs, getValues bool
	maxReqs         int
	pools           map[*backend.Server]*fcgiPool
}

type fcgiParamRules struct {
	name  []byte
	rules []fcgiParamRule // in reverse order
}

type fcgiParamRule struct {
	cond   *acl.Cond
	format *logging.Format
}

type fcgiPassRules struct {
	name  []byte
	conds []*acl.Cond // nil entry: always
}

// compileFCGI compiles the fcgi-app of a backend using one. Its ACLs
// and rules compile in the backend's context, as HAProxy's filter check
// does.
func compileFCGI(cfg *parser.Config, p *parser.Proxy, be *Backend, ctx *acl.Context, fail func(parser.Pos, string, ...any)) {
	if p.FCGIApp == "" || p.Mode != "http" {
		return
	}
	a := parser.FindFCGIApp(cfg, p.FCGIApp)
	if a == nil {
		return
	}
	f := &fcgiApp{name: a.Name, docroot: a.Docroot, index: a.Index, keepConn: a.KeepConn,
		servers: map[*backend.Server]bool{}, timeout: be.Server, version: "HAProxy " + parser.HAProxyVersion,
		mpxs: a.MpxsConns, getValues: a.GetValues, maxReqs: a.MaxReqs, pools: map[*backend.Server]*fcgiPool{}}
	if a.PathInfo != "" {
		re, err := regexp.Compile(a.PathInfo)
		if err != nil {
			fail(a.Pos, "fcgi-app '%s': path-info: %v", a.Name, err)
			return
		}
		f.pathInfo = re
	}
	set := acl.NewSetWith(ctx)
	for _, l := range a.ACLs {
		ctx.File, ctx.Line = l.Pos.File, l.Pos.Line
		if err := set.Add(l.Name, l.Fetch, l.Args); err != nil {
			fail(l.Pos, "acl '%s': %v", l.Name, err)
		}
	}
	byName := map[string]int{}
	hidden := map[string]int{}
	for _, r := range a.Rules {
		var cond *acl.Cond
		if len(r.Cond) > 0 {
			c, err := set.ParseCondAt(r.Cond, smpuse.ValBE_HRQ_HDR)
			if err != nil {
				fail(r.Pos, "fcgi-app '%s': condition: %v", a.Name, err)
				continue
			}
			cond = c
		}
		switch r.Kind {
		case parser.FCGISetParam:
			fm, err := ruleFormat(r.Value, ctx)
			if err != nil {
				fail(r.Pos, "fcgi-app '%s': set-param %s: %v", a.Name, r.Name, err)
				continue
			}
			i, ok := byName[r.Name]
			if !ok {
				i = len(f.params)
				byName[r.Name] = i
				f.params = append(f.params, fcgiParamRules{name: []byte(":fcgi-" + r.Name)})
			}
			g := &f.params[i]
			g.rules = append([]fcgiParamRule{{cond: cond, format: fm}}, g.rules...)
		case parser.FCGIHideHeader:
			hidden[r.Name] = len(f.pass)
			f.pass = append(f.pass, fcgiPassRules{name: []byte(r.Name)})
		case parser.FCGIPassHeader:
			// A header not hidden goes to the application anyway.
			if i, ok := hidden[r.Name]; ok {
				f.pass[i].conds = append(f.pass[i].conds, cond)
			}
		}
	}
	sort.Slice(f.params, func(i, j int) bool { return bytes.Compare(f.params[i].name, f.params[j].name) < 0 })
	if len(a.Logs) > 0 {
		l := &feLog{tag: a.Name, key: "fcgi-app " + a.Name}
		for _, t := range a.Logs {
			if t.Target.Kind == logfmt.Ring {
				fail(t.Pos, "fcgi-app '%s': 'log-stderr %s' is not supported by the gohap runtime yet.", a.Name, t.Address)
				continue
			}
			l.targets = append(l.targets, t.Target)
		}
		f.log = l
	}
	be.fcgi = f
	be.idle.fcgi = f
	// HAProxy waits for the request body before the application gets
	// the request, and deletes header names with other characters than
	// letters, digits and '-' unless the backend says otherwise.
	be.bufferRequest = true
	if !p.Options["http-restrict-req-hdr-names"] {
		be.restrictHdr = restrictDelete
	}
}

// fcgiNames are the values of fcgi.docroot and fcgi.index.
func (be *Backend) fcgiNames() (string, string) {
	if be == nil || be.fcgi == nil {
		return "", ""
	}
	return be.fcgi.docroot, be.fcgi.index
}

// Lines the engine adds to a request head for its fcgiVConn: a client
// cannot send them, a header name being never empty.
var (
	fcgiSrcLine   = []byte("::src: ")
	fcgiDstLine   = []byte("::dst: ")
	fcgiHTTPSLine = []byte("::https: on\r\n")
	fcgiPassLine  = []byte("::pass: ")
	fcgiH2Line    = []byte("::proto: HTTP/2.0\r\n")
)

// appendFCGI adds to a request head what the application's parameters
// need of the stream: the set-param values, the hidden headers let
// through, the addresses and whether the client speaks TLS.
func (s *session) appendFCGI(out []byte) []byte {
	v, ok := s.sv.c.(*fcgiVConn)
	if !ok {
		return out
	}
	f := v.app
	s.prepareRecord()
	for i := range f.params {
		g := &f.params[i]
		for _, r := range g.rules {
			if r.cond != nil && !r.cond.Eval(&s.txn) {
				continue
			}
			mark := len(out)
			out = append(append(out, g.name...), ": "...)
			start := len(out)
			out = r.format.Append(out, &s.rec)
			if len(out) == start {
				out = out[:mark]
			} else {
				out = append(out, "\r\n"...)
			}
			break
		}
	}
	for i := range f.pass {
		for _, c := range f.pass[i].conds {
			if c == nil || c.Eval(&s.txn) {
				out = append(append(append(out, fcgiPassLine...), f.pass[i].name...), "\r\n"...)
				break
			}
		}
	}
	out = append(s.txn.Src.AppendTo(append(out, fcgiSrcLine...)), "\r\n"...)
	out = append(s.txn.Dst.AppendTo(append(out, fcgiDstLine...)), "\r\n"...)
	if s.txn.TLS != nil {
		out = append(out, fcgiHTTPSLine...)
	}
	if s.txn.H2 {
		// The engine sends HTTP/1.1; HAProxy names the client's version.
		out = append(out, fcgiH2Line...)
	}
	return out
}

// dialFCGI opens a connection to a FastCGI server and returns the
// engine's end of it.
func (s *session) dialFCGI(d *net.Dialer, be *Backend, srv *backend.Server) (netConn, error) {
	f := be.fcgi
	pool := f.pools[srv]
	var fc *fcgiConn
	var local, remote net.Addr
	if pool != nil {
		if c := pool.free(); c != nil {
			// A shared connection: the pump takes one per request.
			local, remote = c.srv.LocalAddr(), c.srv.RemoteAddr()
		}
	}
	if local == nil {
		var nc net.Conn
		var err error
		if srv.Socks4 != "" {
			nc, err = dialSocks4(d, srv, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
		} else {
			nc, err = netDial(d, srv.DialAddr(s.txn.Dst), s.srvNS(srv))
		}
		if err != nil {
			return nil, err
		}
		c := nc.(netConn)
		if s.sendProxyHeader(be, srv, c) != nil {
			c.Close()
			return nil, errProxyHeader
		}
		if fc, err = newFCGIConn(c, f); err != nil {
			c.Close()
			return nil, err
		}
		local, remote = c.LocalAddr(), c.RemoteAddr()
		if pool != nil && fc.limit > 1 {
			pool.add(fc, f.timeout)
		}
	}
	a, b, err := socketPair()
	if err != nil {
		if fc != nil {
			fc.srv.Close()
		}
		return nil, err
	}
	v := &fcgiVConn{UnixConn: a, peer: b, conn: fc, app: f, local: local, remote: remote,
		server: srv, connect: be.Connect,
		failPage: s.errors().stream(500, true), badPage: s.errors().stream(400, true)}
	if pool != nil && (fc == nil || fc.limit > 1) {
		// The first request goes on the connection just opened.
		v.pool, v.first, v.conn = pool, fc, nil
	}
	go v.pump()
	return v, nil
}

// fcgiVConn is an engine connection to a FastCGI server: the engine's
// end of a socket pair whose other end turns each HTTP/1.1 request into
// a FastCGI request on srv and its response back into HTTP/1.1.
type fcgiVConn struct {
	*net.UnixConn
	peer *net.UnixConn
	// conn is the connection the engine connection owns; nil when its
	// requests go on the server's shared ones (pool).
	conn          *fcgiConn
	pool          *fcgiPool
	first         *fcgiConn
	server        *backend.Server
	connect       time.Duration
	app           *fcgiApp
	local, remote net.Addr
	// failPage answers a request whose parameters cannot be made (a
	// path that does not decode): HAProxy's 500.
	failPage []byte
	// badPage answers a request whose length the application cannot be
	// told: a chunked body longer than a buffer (HAProxy's 400).
	badPage []byte
	// params, hbuf and body are the pump's buffers, kept from one
	// request to the next.
	params, hbuf, body, out []byte
}

func (v *fcgiVConn) RemoteAddr() net.Addr { return v.remote }
func (v *fcgiVConn) LocalAddr() net.Addr  { return v.local }

// fcgiBufPool holds the buffers requests are encoded in.
var fcgiBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16384); return &b }}

// errFCGI is a request the application cannot be given, or a response
// it gave wrong: the engine sees the connection close.
var errFCGI = errors.New("fcgi: bad message")

// fcgiBodyWait is how much of a chunked body may wait before the
// parameters go, for CONTENT_LENGTH: HAProxy counts the body in its
// buffer (tune.bufsize less the reserve).
const fcgiBodyWait = 16384 - 1024

func (v *fcgiVConn) pump() {
	defer func() {
		v.peer.Close()
		if v.conn != nil {
			v.conn.srv.Close()
		}
	}()
	br := bufio.NewReaderSize(v.peer, 16384)
	var req fcgiRequest
	for {
		if err := req.read(br); err != nil {
			return
		}
		c, st := v.stream()
		if st == nil {
			return
		}
		ok := v.exchange(br, st, &req)
		c.done(st, ok)
		if !ok || !v.app.keepConn {
			return
		}
	}
}

// stream opens the next request: on the engine connection's own
// FastCGI connection, else on a shared one with a free slot, else on a
// new one.
func (v *fcgiVConn) stream() (*fcgiConn, fcgiStream) {
	if v.conn != nil {
		return v.conn, v.conn.open()
	}
	if c := v.first; c != nil {
		v.first = nil
		if st := c.open(); st != nil {
			return c, st
		}
	}
	if c, st := v.pool.take(); c != nil {
		return c, st
	}
	c, err := v.app.dialShared(v.server, v.connect)
	if err != nil {
		return nil, nil
	}
	if c.limit <= 1 {
		// The server refused to multiplex: this one is ours.
		v.conn = c
	}
	return c, c.open()
}

// fcgiRequest is a request head as the engine sent it; its slices are
// reused from one request to the next.
type fcgiRequest struct {
	head             []byte
	method, uri, ver []byte
	// headers are the name and value of the header lines, in order,
	// internal lines included.
	headers [][2][]byte
	cl      int64 // -1: none
	chunked bool
	head11  bool
}

// read reads the head of the next request.
func (r *fcgiRequest) read(br *bufio.Reader) error {
	r.head, r.headers, r.cl, r.chunked = r.head[:0], r.headers[:0], -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		r.head = append(r.head, line...)
		if err == nil && (len(line) == 2 && line[0] == '\r' || len(line) == 1) {
			break
		}
	}
	head := r.head
	i := bytes.Index(head, crlf)
	first := head[:max(i, 0)]
	sp1 := bytes.IndexByte(first, ' ')
	sp2 := bytes.LastIndexByte(first, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return errFCGI
	}
	r.method, r.uri, r.ver = first[:sp1], first[sp1+1:sp2], first[sp2+1:]
	r.head11 = string(r.ver) == "HTTP/1.1"
	for rest := head[i+2:]; len(rest) > 2; {
		j := bytes.Index(rest, crlf)
		if j < 0 {
			break
		}
		l := rest[:j]
		rest = rest[j+2:]
		k := bytes.Index(l[min(1, len(l)):], []byte(": "))
		if k < 0 {
			continue
		}
		k += min(1, len(l))
		name, val := l[:k], l[k+2:]
		switch {
		case len(name) > 1 && name[0] == ':':
		case h1.EqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < 0 {
				return errFCGI
			}
			r.cl = n
		case h1.EqualFold(name, "transfer-encoding"):
			r.chunked = true
		}
		r.headers = append(r.headers, [2][]byte{name, val})
	}
	return nil
}

// readChunked reads up to max bytes of a chunked body's data into dst;
// done tells it ended (trailers read).
type chunkReader struct {
	br   *bufio.Reader
	left int64
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 {
			return 0, errFCGI
		}
		if n == 0 {
			for {
				l, err := c.br.ReadSlice('\n')
				if err != nil {
					return 0, err
				}
				if len(bytes.TrimRight(l, "\r\n")) == 0 {
					break
				}
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		if _, err = c.br.Discard(2); err != nil {
			return n, err
		}
	}
	return n, err
}

// exchange runs one request; it reports whether the connection may
// carry another one.
func (v *fcgiVConn) exchange(br *bufio.Reader, st fcgiStream, req *fcgiRequest) bool {
	bp := fcgiBufPool.Get().(*[]byte)
	defer fcgiBufPool.Put(bp)
	var body io.Reader
	var early []byte
	bodyLen := int64(0)
	switch {
	case req.chunked:
		cr := &chunkReader{br: br}
		early = make([]byte, 0, fcgiBodyWait+1)
		for len(early) <= fcgiBodyWait && !cr.done {
			n, err := cr.Read(early[len(early) : fcgiBodyWait+1])
			early = early[:len(early)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return false
			}
		}
		if !cr.done {
			// HAProxy needs the length or the whole message. The rest
			// of the body is read so that the engine gets the answer.
			v.peer.Write(v.badPage)
			io.Copy(io.Discard, cr)
			return false
		}
		bodyLen = int64(len(early))
		body = cr
	case req.cl > 0:
		body = io.LimitReader(br, req.cl)
		bodyLen = req.cl
	}
	flags := uint8(0)
	if v.app.keepConn {
		flags = fcgi.FlagKeepConn
	}
	id := st.id()
	out := fcgi.AppendBeginRequest((*bp)[:0], id, fcgi.RoleResponder, flags)
	params, ok := v.app.encodeParams(req, bodyLen, v.params[:0])
	if !ok {
		v.peer.Write(v.failPage)
		if body != nil {
			io.Copy(io.Discard, body)
		}
		return false
	}
	v.params = params
	out = fcgi.AppendStream(out, fcgi.TypeParams, id, params)
	out = fcgi.AppendStream(out, fcgi.TypeParams, id, nil)
	if len(early) > 0 {
		out = fcgi.AppendStream(out, fcgi.TypeStdin, id, early)
	}
	if body == nil {
		out = fcgi.AppendStream(out, fcgi.TypeStdin, id, nil)
	}
	*bp = out
	if err := st.write(out); err != nil {
		return false
	}
	if body == nil {
		return v.response(st, req)
	}
	sent := make(chan bool, 1)
	// The body goes while the response comes: the application may
	// answer before reading it all.
	go v.sendBody(st, body, sent)
	if ok = v.response(st, req); !ok {
		// Frees a sender waiting on either side.
		v.peer.Close()
		if v.conn != nil {
			v.conn.srv.Close()
		}
	}
	return <-sent && ok
}

// sendBody sends the rest of a request body as STDIN records, then the
// empty one that ends it.
func (v *fcgiVConn) sendBody(st fcgiStream, body io.Reader, sent chan<- bool) {
	bp := fcgiBufPool.Get().(*[]byte)
	defer fcgiBufPool.Put(bp)
	buf := (*bp)[:cap(*bp)]
	data := buf[fcgi.HeaderSize:]
	for {
		n, err := body.Read(data)
		if n > 0 {
			fcgi.AppendHeader(buf[:0], fcgi.TypeStdin, st.id(), n, 0)
			if werr := st.write(buf[:fcgi.HeaderSize+n]); werr != nil {
				sent <- false
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			sent <- false
			return
		}
	}
	sent <- st.write(fcgi.AppendHeader(buf[:0], fcgi.TypeStdin, st.id(), 0, 0)) == nil
}

// params encodes the request's parameters as HAProxy's mux does
// (fcgi_strm_send_params, fcgi_set_default_param).
func (f *fcgiApp) encodeParams(req *fcgiRequest, bodyLen int64, dst []byte) ([]byte, bool) {
	var (
		mask                                  uint32
		docroot, script, pathInfo, uri, host  []byte
		src, dst2                             []byte
		https                                 bool
		proto                                 = req.ver
		passed                                [][]byte
		scriptSet, pathInfoSet, uriSet, clSet bool
	)
	for _, h := range req.headers {
		n := h[0]
		if len(n) > 1 && n[0] == ':' && n[1] == ':' {
			switch string(n) {
			case "::src":
				src = h[1]
			case "::dst":
				dst2 = h[1]
			case "::https":
				https = true
			case "::pass":
				passed = append(passed, h[1])
			case "::proto":
				proto = h[1]
			}
		}
	}
	isPassed := func(name []byte) bool {
		for _, p := range passed {
			if h1.EqualFold(name, string(p)) {
				return true
			}
		}
		return false
	}
	hidden := func(name []byte) bool {
		for i := range f.pass {
			if h1.EqualFold(name, string(f.pass[i].name)) {
				return !isPassed(name)
			}
		}
		return false
	}
	for _, h := range req.headers {
		n, val := h[0], h[1]
		switch {
		case len(n) > 1 && n[0] == ':' && n[1] == ':':
			continue
		case bytes.HasPrefix(n, []byte(":fcgi-")):
			n = n[6:]
			if bit, ok := fcgiKnown[string(n)]; ok {
				mask |= bit
				switch bit {
				case spDocRoot:
					docroot = val
				case spScriptName:
					script, scriptSet = val, true
				case spPathInfo:
					pathInfo, pathInfoSet = val, true
				case spReqURI:
					uri, uriSet = val, true
				}
			}
			dst = fcgi.AppendParamBytes(dst, "", n, val)
			continue
		case hidden(n):
			continue
		case h1.EqualFold(n, "content-length"):
			mask |= spContLen
			clSet = true
			dst = fcgi.AppendParamJoin(dst, "CONTENT_LENGTH", val, nil)
			continue
		case h1.EqualFold(n, "content-type"):
			dst = fcgi.AppendParamJoin(dst, "CONTENT_TYPE", val, nil)
			continue
		case h1.EqualFold(n, "host"):
			host = val
		}
		dst = fcgi.AppendParamBytes(dst, "HTTP_", n, val)
	}
	if mask&spDocRoot == 0 {
		docroot = []byte(f.docroot)
	}
	if !uriSet {
		uri = req.uri
		if i := bytes.Index(uri, []byte("://")); i > 0 && uri[0] != '/' {
			// Absolute form: the path is what follows the authority.
			rest := uri[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				uri = rest[j:]
			} else {
				uri = nil
			}
		}
	}
	var qs []byte
	soft := true
	if mask&(spScriptName|spPathInfo|spQS) != spScriptName|spPathInfo|spQS {
		path := uri
		if !scriptSet && len(path) == 0 {
			return nil, false
		}
		if i := bytes.IndexByte(path, '?'); i >= 0 && mask&spQS == 0 {
			// A QUERY_STRING set by a rule leaves the path whole.
			qs, path = path[i+1:], path[:i]
		}
		if scriptSet {
			// HAProxy then leaves PATH_INFO and SERVER_SOFTWARE out.
			mask |= spPathInfo
			soft = false
		} else {
			dec, ok := urlDecode(path)
			if !ok {
				return nil, false
			}
			script = dec
			if f.pathInfo != nil {
				if bytes.IndexByte(dec, '\n') >= 0 || bytes.IndexByte(dec, 0) >= 0 {
					return nil, false
				}
				if m := f.pathInfo.FindSubmatchIndex(dec); len(m) >= 4 && m[2] >= 0 {
					script = dec[m[2]:m[3]]
					if !pathInfoSet && len(m) >= 6 && m[4] >= 0 {
						pathInfo = dec[m[4]:m[5]]
					}
				}
			}
			if f.index != "" && len(script) > 0 && script[len(script)-1] == '/' {
				script = append(append([]byte(nil), script...), f.index...)
			}
		}
	}
	srvName := host
	if len(srvName) == 0 {
		srvName = addrOnly(dst2)
	}
	add := func(bit uint32, name string, val, more []byte) {
		if mask&bit == 0 && len(val)+len(more) > 0 {
			dst = fcgi.AppendParamJoin(dst, name, val, more)
		}
	}
	var num [20]byte
	add(spGateway, "GATEWAY_INTERFACE", []byte("CGI/1.1"), nil)
	add(spDocRoot, "DOCUMENT_ROOT", docroot, nil)
	add(spScriptName, "SCRIPT_NAME", script, nil)
	add(spPathInfo, "PATH_INFO", pathInfo, nil)
	add(spReqURI, "REQUEST_URI", uri, nil)
	add(spReqMeth, "REQUEST_METHOD", req.method, nil)
	add(spQS, "QUERY_STRING", qs, nil)
	add(spSrvName, "SERVER_NAME", srvName, nil)
	add(spSrvPort, "SERVER_PORT", portOnly(dst2), nil)
	add(spSrvProto, "SERVER_PROTOCOL", proto, nil)
	add(spRemAddr, "REMOTE_ADDR", addrOnly(src), nil)
	add(spRemPort, "REMOTE_PORT", portOnly(src), nil)
	add(spScriptFile, "SCRIPT_FILENAME", docroot, script)
	if len(pathInfo) > 0 {
		add(spPathTrans, "PATH_TRANSLATED", docroot, pathInfo)
	}
	if !clSet {
		add(spContLen, "CONTENT_LENGTH", strconv.AppendInt(num[:0], bodyLen, 10), nil)
	}
	if soft {
		add(spSrvSoft, "SERVER_SOFTWARE", []byte(f.version), nil)
	}
	if https {
		add(spHTTPS, "HTTPS", []byte("on"), nil)
	}
	return dst, true
}

// The parameters a set-param rule may set instead of HAProxy's value
// (FCGI_SP_*), by their key.
const (
	spGateway uint32 = 1 << iota
	spDocRoot
	spScriptName
	spPathInfo
	spReqURI
	spReqMeth
	spQS
	spSrvName
	spSrvPort
	spSrvProto
	spRemAddr
	spRemPort
	spScriptFile
	spPathTrans
	spContLen
	spHTTPS
	spSrvSoft
)

var fcgiKnown = map[string]uint32{
	"gateway_interface": spGateway, "document_root": spDocRoot, "script_name": spScriptName,
	"path_info": spPathInfo, "request_uri": spReqURI, "request_meth": spReqMeth, "query_string": spQS,
	"server_name": spSrvName, "server_port": spSrvPort, "server_protocol": spSrvProto,
	"remote_addr": spRemAddr, "remote_port": spRemPort, "script_filename": spScriptFile,
	"path_translated": spPathTrans, "https": spHTTPS, "server_software": spSrvSoft,
}

// addrOnly and portOnly split an "addr:port" the engine wrote.
func addrOnly(ap []byte) []byte {
	i := bytes.LastIndexByte(ap, ':')
	if i < 0 {
		return ap
	}
	a := ap[:i]
	if len(a) > 1 && a[0] == '[' {
		a = a[1 : len(a)-1]
	}
	if bytes.HasPrefix(a, []byte("::ffff:")) && bytes.Count(a, []byte(".")) == 3 {
		a = a[7:]
	}
	return a
}

func portOnly(ap []byte) []byte {
	i := bytes.LastIndexByte(ap, ':')
	if i < 0 {
		return []byte("0")
	}
	return ap[i+1:]
}

// urlDecode is HAProxy's url_decode outside forms: %XX sequences
// decoded, '+' kept.
func urlDecode(s []byte) ([]byte, bool) {
	if bytes.IndexByte(s, '%') < 0 {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s) {
			return nil, false
		}
		h, ok1 := unhex(s[i+1])
		l, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return nil, false
		}
		out = append(out, h<<4|l)
		i += 2
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// response reads the application's records and writes the HTTP/1.1
// response to the engine; it reports whether the exchange ended well
// and the connection may carry another request.
func (v *fcgiVConn) response(st fcgiStream, req *fcgiRequest) bool {
	hbuf, body := v.hbuf[:0], v.body[:0]
	defer func() { v.hbuf, v.body = hbuf[:0], body[:0] }()
	var (
		rh        *cgiHead
		streaming bool
		chunked   bool
		noBody    bool
	)
	isHead := string(req.method) == "HEAD"
	for ended := false; !ended; {
		h, c, err := st.next(v.app.timeout)
		if err != nil {
			return false
		}
		switch h.Type {
		case fcgi.TypeStdout:
			if rh == nil {
				hbuf = append(hbuf, c...)
				end, n := cgiHeadEnd(hbuf)
				if end < 0 {
					if len(hbuf) > 65536 {
						return false
					}
					continue
				}
				if rh = parseCGIHead(hbuf[:end]); rh == nil {
					return false
				}
				noBody = isHead || rh.code == 204 || rh.code == 304 || rh.code < 200
				c = hbuf[end+n:]
			}
			if len(c) == 0 {
				continue
			}
			if noBody {
				// A body after a head that has none is dropped.
				continue
			}
			if !streaming {
				body = append(body, c...)
				// HAProxy gives the length when the end of the
				// response came with its head (HTX_FL_EOM).
				if len(body) <= fcgiBodyWait && !rh.hasLength && (st.buffered() || !req.head11) {
					continue
				}
				// Too much to wait for the end: the length stays unknown.
				chunked = req.head11 && !rh.hasLength
				if _, err := v.peer.Write(v.responseHead(req, rh, -1, chunked)); err != nil {
					return false
				}
				streaming = true
				c, body = body, body[:0]
			}
			if err := writeBody(v.peer, c, chunked); err != nil {
				return false
			}
		case fcgi.TypeStderr:
			if l := v.app.log; l != nil && l.logger != nil && len(c) > 0 {
				l.logger.Emit(logging.LevelErr, -1, c, nil)
			}
		case fcgi.TypeEndRequest:
			e, ok := fcgi.ParseEndRequest(c)
			if !ok || e.ProtocolStatus != fcgi.RequestComplete {
				return false
			}
			ended = true
		}
	}
	if rh == nil {
		return false
	}
	if streaming {
		if chunked {
			if _, err := v.peer.Write([]byte("0\r\n\r\n")); err != nil {
				return false
			}
		}
		return chunked || rh.hasLength
	}
	n := int64(len(body))
	if noBody || !req.head11 {
		n = -1
	}
	_, err := v.peer.Write(append(v.responseHead(req, rh, n, false), body...))
	return err == nil && (req.head11 || rh.hasLength || noBody)
}

func writeBody(w io.Writer, c []byte, chunked bool) error {
	if len(c) == 0 {
		return nil
	}
	if !chunked {
		_, err := w.Write(c)
		return err
	}
	out := strconv.AppendInt(nil, int64(len(c)), 16)
	out = append(append(append(out, "\r\n"...), c...), "\r\n"...)
	_, err := w.Write(out)
	return err
}

// cgiHead is a CGI response head (RFC 3875 section 6.3).
type cgiHead struct {
	code      int
	status    []byte
	reason    []byte
	headers   [][2][]byte
	hasDate   bool
	hasLength bool
}

// cgiHeadEnd finds the blank line ending a CGI head: its offset and
// length, -1 when not there yet.
func cgiHeadEnd(b []byte) (int, int) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 1, 1
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 1, 2
		}
		if i == 0 || i == 1 && b[0] == '\r' {
			return 0, i + 1
		}
	}
	return -1, 0
}

// parseCGIHead reads the header lines: "Status" gives the status,
// "Location" 302 (h1_postparse_res_hdrs), 200 otherwise.
func parseCGIHead(b []byte) *cgiHead {
	h := &cgiHead{}
	for _, l := range bytes.Split(b, []byte("\n")) {
		l = bytes.TrimRight(l, "\r")
		if len(l) == 0 {
			continue
		}
		i := bytes.IndexByte(l, ':')
		if i <= 0 {
			return nil
		}
		name, val := l[:i], bytes.Trim(l[i+1:], " \t")
		for _, c := range name {
			if !h1.IsToken(c) {
				return nil
			}
		}
		switch {
		case h1.EqualFold(name, "status"):
			j := 0
			for j < len(val) && h1.IsToken(val[j]) {
				j++
			}
			h.status = val[:j]
			h.reason = bytes.TrimLeft(val[j:], " \t")
			h.code, _ = strconv.Atoi(string(h.status))
			continue
		case h1.EqualFold(name, "location"):
			h.code, h.status, h.reason = 302, []byte("302"), []byte("Moved Temporarily")
		case h1.EqualFold(name, "date"):
			h.hasDate = true
		case h1.EqualFold(name, "content-length"), h1.EqualFold(name, "transfer-encoding"):
			h.hasLength = true
		}
		h.headers = append(h.headers, [2][]byte{name, val})
	}
	if h.code == 0 {
		h.code, h.status, h.reason = 200, []byte("200"), []byte("OK")
	}
	return h
}

// responseHead writes the HTTP/1.1 head the engine reads: n is the body
// length to announce (-1: none), chunked a body sent in chunks.
func (v *fcgiVConn) responseHead(req *fcgiRequest, h *cgiHead, n int64, chunked bool) []byte {
	out := v.out[:0]
	defer func() { v.out = out[:0] }()
	if req.head11 {
		out = append(out, "HTTP/1.1 "...)
	} else {
		out = append(out, "HTTP/1.0 "...)
	}
	out = append(append(append(out, h.status...), ' '), h.reason...)
	out = append(out, "\r\n"...)
	for _, kv := range h.headers {
		out = append(append(append(append(out, kv[0]...), ": "...), kv[1]...), "\r\n"...)
	}
	if !h.hasDate {
		out = append(out, "date: "...)
		out = time.Now().UTC().AppendFormat(out, "Mon, 02 Jan 2006 15:04:05 GMT")
		out = append(out, "\r\n"...)
	}
	switch {
	case h.hasLength:
	case n >= 0:
		out = append(strconv.AppendInt(append(out, "content-length: "...), n, 10), "\r\n"...)
	case chunked:
		out = append(out, "transfer-encoding: chunked\r\n"...)
	}
	if !v.app.keepConn {
		// The application closes the connection after the request:
		// the engine must not send another one on it.
		out = append(out, "connection: close\r\n"...)
	}
	return append(out, "\r\n"...)
}
