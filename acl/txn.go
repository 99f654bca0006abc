package acl

import (
	"time"

	"net/netip"
	"sync"

	"github.com/gohap/gohap/acl/stick"

	"github.com/gohap/gohap/runtime/h1"
)

// Txn is what samples and conditions are evaluated against: a parsed
// request head in its buffer, the connection's addresses and whatever the
// runtime knows of the stream. A zero field means "not known", and the
// fetches that need it find nothing.
type Txn struct {
	Buf []byte
	Req *h1.Msg
	// ProxyAuth is HAProxy's TX_USE_PX_CONN: option http-use-proxy-header
	// and a request whose target starts with neither '/' nor '*'; the
	// credentials are then in Proxy-Authorization.
	ProxyAuth bool
	// FeName, BeName, SrvName and SrvID name the stream's frontend,
	// backend and server, once known.
	FeName, BeName, SrvName string
	SrvID                   int
	// FCGIDocroot and FCGIIndex are the docroot and index of the
	// backend's fcgi-app (fcgi.docroot, fcgi.index), empty without one.
	FCGIDocroot, FCGIIndex string
	// LastRuleFile and LastRuleLine place the last rule that ended a
	// rule set (last_rule_file, last_rule_line); empty when none did.
	LastRuleFile string
	LastRuleLine int
	// PrioClass and PrioOffset are the stream's queue priority
	// (set-priority-class, set-priority-offset; prio_class, prio_offset).
	PrioClass, PrioOffset int
	// Vars holds the stream's and connection's variables, Proc the
	// process's (guarded by ProcMu).
	Vars   *Vars
	Proc   *Vars
	ProcMu *sync.Mutex
	// Sess, when SessMu is set, holds the sess variables instead of
	// Vars: those of a connection whose streams (HTTP/2) run apart and
	// share them, guarded by SessMu.
	Sess   *Vars
	SessMu *sync.Mutex
	// VarLimits are tune.vars.*-max-size, nil when none is set.
	VarLimits *VarLimits
	// RspBuf and Rsp are the response head, once there is one.
	RspBuf   []byte
	Rsp      *h1.Msg
	Src, Dst netip.AddrPort
	// ConnSrc and ConnDst are the connection's addresses when rules above
	// the connection changed Src or Dst (fc_src, fc_dst...); unset, they
	// are Src and Dst.
	ConnSrc, ConnDst netip.AddrPort
	// Payload is the request data buffered so far by tcp-request content
	// inspection (req.len, req.payload, req.ssl_sni...); ResPayload the
	// response data for tcp-response content.
	Payload, ResPayload []byte
	// Body is the HTTP request body buffered so far (http-buffer-request),
	// BodyDone set once it is complete.
	Body     []byte
	BodyDone bool
	// Final is HAProxy's SMP_OPT_FINAL: no more data will arrive (buffer
	// full, end of stream or inspect-delay expired), so values flagged
	// MayChange are taken as they are. See Cond.Exec.
	Final bool
	// HeadPending is set on a TCP stream whose data does not hold a whole
	// HTTP request head yet: the HTTP fetches then find nothing, as a
	// value that may change until Final.
	HeadPending bool
	// HTX says the stream is an HTTP one (internal.strm.is_htx): an
	// HTTP proxy's, or a TCP one's once switched to HTTP.
	HTX bool
	// H2 says the request came over HTTP/2 (req.ver is "2.0").
	H2 bool
	// Origin is "scheme://authority" of an HTTP/2 request whose target
	// the HTTP/1.1 side holds in origin form: HAProxy holds it in
	// absolute form, which url and its kin show (see AbsTarget).
	Origin string
	// SchemeHTTP is HAProxy's start line flags HAS_SCHM and SCHM_HTTP:
	// the request named the scheme http (an HTTP/2 :scheme, an absolute
	// target, one a rule set), which an HTTP/2 server is sent once the
	// target is in origin form.
	SchemeHTTP bool
	// Env answers the fetches that need the engine's state; nil means
	// they find nothing.
	Env Env
	// TLS describes the client connection's TLS layer, nil without one.
	TLS *TLSInfo
	// BackTLS describes the server connection's TLS layer (ssl_bc*),
	// nil without one.
	BackTLS *TLSInfo
	// ConnErr is the client connection's error code (fc_err), set on a
	// connection logged because it failed before carrying a stream.
	// BackConn says the stream has a server connection, one that may
	// have failed with BackErr (bc_err).
	ConnErr  uint8
	BackConn bool
	BackErr  uint8
	// Track is the stream's tracking counters sc0 to sc2 (TrackSC),
	// SessTrack the session's, set by tcp-request connection and session
	// rules; nil means none. The sc_* fetches read the stream's counter,
	// else the session's.
	Track     TrackSet
	SessTrack *TrackSet
	// Dir is the channel of the rule being evaluated: hdr() and the ACL
	// keywords built on it (hdr_beg, hdr_sub...) read the response in
	// response rules (smp_fetch_chn_hdr). The zero value is the request.
	Dir Dir

	// tb are rotating work areas for cast and converter outputs, kept
	// across evaluations so that a warm Txn does not allocate; ti is the
	// last one handed out.
	tb [4][]byte
	ti uint8
	// scratch and low are reused work areas (base, lower-casing).
	scratch, low []byte
	// ev, iv and hv hold the value being evaluated, the value an
	// iterating fetch offers and its adapter: they are reached through
	// function values and interfaces, so locals would escape.
	ev, iv    Value
	hv        hdrVisitor
	mayChange bool
	// settled is set when a converter decided MayChange itself.
	settled bool
	matched bool
	// hit is the rule a Table found.
	hit int32
}

// tmp returns the next work area, empty. Its content stays valid until
// three more calls, so a converter can read its input (the previous
// area) while it writes its output.
func (t *Txn) tmp() []byte {
	t.ti = (t.ti + 1) & 3
	return t.tb[t.ti][:0]
}

// keep stores b back as the current work area, keeping the capacity it
// grew to, and returns it.
func (t *Txn) keep(b []byte) []byte {
	t.tb[t.ti] = b
	return b
}

// Dir is a channel: the request or the response.
type Dir uint8

// Channels.
const (
	DirReq Dir = iota
	DirRes
)

// ProxyState is what the counter fetches read of a frontend or backend
// (be_conn, fe_req_rate, nbsrv, queue...). Rates are per second over the
// last second, as HAProxy's freq counters.
type ProxyState struct {
	ID       int
	Conn     int64
	SessRate int64
	ReqRate  int64
	// Queue is the number of streams queued on the backend and its
	// servers (totpend).
	Queue int64
	// UsableServers counts the servers that are up (nbsrv).
	UsableServers int64
	// ConnFree is the free connection slots of the usable servers, or -1
	// when one of them has no maxconn (be_conn_free).
	ConnFree int64
	// ConnSlots is the maxconn plus maxqueue sum of the usable servers
	// minus the backend's connections and queue, or -1 when unlimited
	// (connslots).
	ConnSlots int64
}

// ServerState is what the server fetches read (srv_is_up, srv_conn...).
type ServerState struct {
	ID    int
	Up    bool
	Conn  int64
	Queue int64
	// SessRate is the sessions per second; ConnFree the free slots
	// below its maxconn, -1 without one; IWeight and UWeight the
	// weights at start and in force.
	SessRate         int64
	ConnFree         int64
	IWeight, UWeight int64
}

// Env gives the fetches the state only the engine knows. Each method
// reports ok false when the thing is not known; the fetch then finds
// nothing.
type Env interface {
	// Listener returns the name and id of the bind line that accepted
	// the connection (so_name, so_id).
	Listener() (name string, id int, ok bool)
	// Proxy returns a frontend's (fe) or backend's state. An empty name
	// is the stream's own frontend or backend (fe_id, be_id, be_conn...).
	Proxy(name string, fe bool) (ProxyState, bool)
	// Server returns a server's state; backend is a backend name, or ""
	// for the stream's backend.
	Server(backend, server string) (ServerState, bool)
	// Stopping reports whether the process is stopping (stopping).
	Stopping() bool
	// FirstRequest reports whether the stream's request is the first one
	// of its client connection (http_first_req). HAProxy's HTTP/2 streams
	// never are: its H2 mux marks every stream "not first".
	FirstRequest() bool
	// Capture returns capture slot i of the request (res false) or of the
	// response, as "capture request/response header" and
	// "http-request capture" fill them (capture.req.hdr).
	Capture(res bool, i int) ([]byte, bool)
	// Timeouts returns the backend's server and tunnel timeouts and the
	// stream's, which set-timeout may have changed (be_server_timeout,
	// cur_tunnel_timeout...); ok is false before a backend is known.
	Timeouts() (server, tunnel, curServer, curTunnel time.Duration, ok bool)
	// ProxyTLV returns the authority (uniqueID false) or unique id TLV
	// of the connection's PROXY header (fc_pp_authority,
	// fc_pp_unique_id); ok is false when the header had none.
	ProxyTLV(uniqueID bool) ([]byte, bool)
	// UniqueID returns the stream's unique-id (unique-id-format).
	UniqueID() ([]byte, bool)
	// Compression returns the name of the algorithm compressing the
	// response, ok false when it is not compressed (res.comp, res.comp_algo).
	Compression() (algo string, ok bool)
	// String names the environment, for debugging.
	String() string
}

// Context carries what compiling an expression needs from the rest of the
// configuration. A nil Context (or nil fields) means none of it: http_auth
// then refuses every userlist, and map files are read into a private
// registry.
type Context struct {
	// VarLimits are tune.vars.*-max-size as the line reads them, which
	// the proc variables it names are created under; nil for none.
	VarLimits *VarLimits
	// Userlists are the configuration's userlist sections by name.
	Userlists map[string]*Userlist
	// Maps is the process-wide registry of map and pattern files, shared
	// by every expression so that the CLI updates all users of a file.
	Maps *Maps
	// File and Line name the configuration line, for pattern references
	// ("acl 'x' file 'f' line n").
	File string
	Line int
	// Tables are the configuration's stick tables, which the table
	// arguments of the sc_*, src_*, table_* keywords and in_table name
	// (configuration.txt 7.3.3); nil has none, and such arguments fail
	// with a *ResolveError.
	Tables *stick.Tables
	// Proxy names the proxy the expression belongs to: an empty table
	// argument (src_conn_cur, table_cnt) designates its table. Empty
	// means a defaults section, where a table name is required.
	Proxy string
	// ProcVars collects the proc variables the configuration names
	// (var(), set-var, converter arguments): HAProxy creates them at
	// parse time, so they exist, unset, before any request. The process
	// variables start as a Clone of it. Nil records nothing.
	ProcVars *Vars
	// Needs, when set, learns what the expressions need of connections.
	Needs *Needs
	// ServerRef, when set, learns each server a fetch argument names
	// (srv_conn(b/s)...): those cannot be deleted at run time.
	ServerRef func(backend, server string)
	// Servers, when set, resolves server arguments as smp_resolve_args
	// does: whether a backend has that name, and whether a proxy has
	// that server. Defaults says the expression is a defaults section's.
	Servers  ServerResolver
	Defaults bool
	// NoBackend and NoFrontend say the proxy lacks that capability: a
	// backend (frontend) fetch written without an argument designates the
	// proxy itself, which smp_resolve_args then refuses. HAProxy gives a
	// defaults section whose rules a frontend inherits the frontend's
	// capability only (and the other way round).
	NoBackend, NoFrontend bool
	// Unresolved, when set, receives each argument that does not
	// resolve, and compiling goes on, so that one expression reports
	// them all as smp_resolve_args does; nil makes the first one the
	// compile error. An expression compiled so is only for checking.
	Unresolved func(*ResolveError)
}

// unresolved passes a resolution error to the Unresolved hook and
// reports whether it took it.
func (c *Context) unresolved(re *ResolveError) bool {
	if c == nil || c.Unresolved == nil {
		return false
	}
	c.Unresolved(re)
	return true
}

// ServerResolver answers the questions of server argument resolution.
type ServerResolver interface {
	HasBackend(name string) bool
	HasServer(proxy, server string) bool
}

// FrontendResolver, when a ServerResolver has it, resolves frontend
// arguments (fe_conn(name)...): whether a frontend has that name.
type FrontendResolver interface {
	HasFrontend(name string) bool
}

// DeclareVar records a variable named by the configuration; only proc
// ones are kept (vars_check_arg in src/vars.c). A nil Context does nothing.
func (c *Context) DeclareVar(scope uint8, name string) bool {
	if c != nil && c.ProcVars != nil && scope == ScopeProc {
		return c.ProcVars.declare(scope, name, c.VarLimits)
	}
	return true
}

func (c *Context) maps() *Maps {
	if c == nil || c.Maps == nil {
		return NewMaps()
	}
	return c.Maps
}

// reqPending is what an HTTP request fetch answers without a request: no
// value, one that may still come on a TCP stream whose head is not in.
func (t *Txn) reqPending() bool {
	if t.HeadPending && !t.Final {
		t.mayChange = true
	}
	return false
}
