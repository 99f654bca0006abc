package acl

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gohap/gohap/runtime/h1"
)

func init() {
	addFetch(
		&fetchDef{name: "always_true", out: TypeBool, fn: fetchConstBool},
		&fetchDef{name: "always_false", out: TypeBool, fn: fetchFalse},
		&fetchDef{name: "str", args: spec(1, aStr), out: TypeStr, fn: fetchConstStr},
		&fetchDef{name: "bool", args: spec(1, aStr), out: TypeBool, fn: fetchConstBool, check: checkConstBool},
		&fetchDef{name: "int", args: spec(1, aSint), out: TypeInt, fn: fetchConstInt},
		&fetchDef{name: "ipv4", args: spec(1, aIPv4), out: TypeIPv4, fn: fetchConstIP},
		&fetchDef{name: "ipv6", args: spec(1, aIPv6), out: TypeIPv6, fn: fetchConstIP},
		&fetchDef{name: "bin", args: spec(1, aStr), out: TypeBin, fn: fetchConstBin, check: checkConstBin},
		&fetchDef{name: "meth", args: spec(1, aStr), out: TypeMeth, fn: fetchConstMeth, check: checkConstMeth},
		&fetchDef{name: "env", args: spec(1, aStr), out: TypeStr, fn: fetchEnv},
		&fetchDef{name: "date", args: spec(0, aSint, aStr), out: TypeInt, fn: fetchDate, check: checkDateUnit},
		&fetchDef{name: "date_us", out: TypeInt, fn: fetchDateUS},
		&fetchDef{name: "hostname", out: TypeStr, fn: fetchHostname},
		&fetchDef{name: "nbproc", out: TypeInt, fn: fetchOne},
		&fetchDef{name: "proc", out: TypeInt, fn: fetchOne},
		&fetchDef{name: "thread", out: TypeInt, fn: fetchZero},
		&fetchDef{name: "rand", args: spec(0, aSint), out: TypeInt, fn: fetchRand},
		&fetchDef{name: "uuid", args: spec(0, aSint), out: TypeStr, fn: fetchUUID, check: checkUUID},
		&fetchDef{name: "stopping", out: TypeBool, fn: fetchStopping},
		&fetchDef{name: "http_first_req", out: TypeBool, fn: fetchFirstReq},
		&fetchDef{name: "fc_pp_authority", out: TypeStr, fn: fetchProxyTLV},
		&fetchDef{name: "fc_pp_unique_id", out: TypeStr, fn: fetchProxyTLV},
		&fetchDef{name: "be_server_timeout", out: TypeInt, fn: fetchTimeout},
		&fetchDef{name: "be_tunnel_timeout", out: TypeInt, fn: fetchTimeout},
		&fetchDef{name: "cur_server_timeout", out: TypeInt, fn: fetchTimeout},
		&fetchDef{name: "cur_tunnel_timeout", out: TypeInt, fn: fetchTimeout},
		&fetchDef{name: "var", args: spec(1, aStr, aStr), out: TypeAny, fn: fetchVar, check: checkVar},

		&fetchDef{name: "src", out: TypeIPv4, fn: fetchSrc},
		&fetchDef{name: "dst", out: TypeIPv4, fn: fetchDst},
		&fetchDef{name: "fc_err", out: TypeInt, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeInt, int64(t.ConnErr)
			return true
		}},
		&fetchDef{name: "fc_err_str", out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.B = TypeStr, append(t.tmp(), ConnErrText(t.ConnErr)...)
			return true
		}},
		// No server connection, no value.
		&fetchDef{name: "bc_err", out: TypeInt, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeInt, int64(t.BackErr)
			return t.BackConn
		}},
		&fetchDef{name: "bc_err_str", out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.B = TypeStr, append(t.tmp(), ConnErrText(t.BackErr)...)
			return t.BackConn
		}},
		&fetchDef{name: "fc_src", out: TypeIPv4, fn: fetchConnAddr},
		&fetchDef{name: "fc_dst", out: TypeIPv4, fn: fetchConnAddr},
		&fetchDef{name: "fc_src_port", out: TypeInt, fn: fetchConnPort},
		&fetchDef{name: "fc_dst_port", out: TypeInt, fn: fetchConnPort},
		&fetchDef{name: "src_port", out: TypeInt, fn: fetchSrcPort},
		&fetchDef{name: "dst_port", out: TypeInt, fn: fetchDstPort},
		&fetchDef{name: "src_is_local", out: TypeBool, fn: fetchSrcIsLocal},
		&fetchDef{name: "dst_is_local", out: TypeBool, fn: fetchDstIsLocal},
		&fetchDef{name: "so_name", out: TypeStr, fn: fetchSoName},
		&fetchDef{name: "so_id", out: TypeInt, fn: fetchSoID},
		&fetchDef{name: "fe_name", out: TypeStr, fn: fetchFeName},
		&fetchDef{name: "last_rule_file", out: TypeStr, fn: fetchLastRuleFile},
		&fetchDef{name: "internal.strm.is_htx", out: TypeBool, fn: func(fe *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeBool, 0
			if t.HTX {
				v.I = 1
			}
			return true
		}},
		&fetchDef{name: "last_rule_line", out: TypeInt, fn: fetchLastRuleLine},
		&fetchDef{name: "be_name", out: TypeStr, fn: fetchBeName},
		&fetchDef{name: "srv_name", out: TypeStr, fn: fetchSrvName},
		&fetchDef{name: "srv_id", out: TypeInt, fn: fetchSrvID},
		&fetchDef{name: "fe_id", out: TypeInt, fn: fetchProxyStat},
		&fetchDef{name: "be_id", out: TypeInt, fn: fetchProxyStat},
		&fetchDef{name: "fe_conn", args: spec(0, aFE), out: TypeInt, fn: fetchProxyStat, check: checkFrontendArg},
		&fetchDef{name: "fe_req_rate", args: spec(0, aFE), out: TypeInt, fn: fetchProxyStat, check: checkFrontendArg},
		&fetchDef{name: "fe_sess_rate", args: spec(0, aFE), out: TypeInt, fn: fetchProxyStat, check: checkFrontendArg},
		&fetchDef{name: "be_conn", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "be_conn_free", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "be_sess_rate", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "nbsrv", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "queue", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "avg_queue", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "connslots", args: spec(0, aBE), out: TypeInt, fn: fetchProxyStat, check: checkBackendArg},
		&fetchDef{name: "srv_is_up", args: spec(1, aSrv), out: TypeBool, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "srv_conn", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "srv_queue", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "srv_sess_rate", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "prio_class", out: TypeInt, fn: func(_ *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeInt, int64(t.PrioClass)
			return true
		}},
		&fetchDef{name: "prio_offset", out: TypeInt, fn: func(_ *fetch, t *Txn, v *Value) bool {
			v.Type, v.I = TypeInt, int64(t.PrioOffset)
			return true
		}},
		&fetchDef{name: "srv_conn_free", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "srv_iweight", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
		&fetchDef{name: "srv_uweight", args: spec(1, aSrv), out: TypeInt, fn: fetchServerStat, check: checkServer},
	)
}

func fetchConstStr(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.B = TypeStr, fe.b()
	return true
}

// b returns the first argument's bytes.
func (fe *fetch) b() []byte { return fe.args[0].b }

func fetchConstInt(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, fe.args[0].i
	return true
}

func fetchConstBool(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeBool, 1
	if len(fe.args) > 0 {
		v.I = fe.args[0].i
	}
	return true
}

func fetchFalse(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeBool, 0
	return true
}

func checkConstBool(fe *fetch, _ *Context) error {
	switch strings.ToLower(fe.args[0].s) {
	case "true", "1":
		fe.args[0].i = 1
	case "false", "0":
		fe.args[0].i = 0
	default:
		return errorf("Expects 'true', 'false', '0' or '1'")
	}
	return nil
}

func fetchConstIP(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.IP = fe.def.out, fe.args[0].ip
	return true
}

func fetchConstBin(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.B = TypeBin, fe.args[0].b
	return true
}

func checkConstBin(fe *fetch, _ *Context) error {
	b, err := parseBinary(fe.args[0].s)
	if err != nil {
		return err
	}
	fe.args[0].b = b
	return nil
}

// parseBinary is parse_binary (src/tools.c): an even number of hex digits.
func parseBinary(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errorf("an even number of hex digit is expected")
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		h, ok1 := unhex(s[i])
		l, ok2 := unhex(s[i+1])
		if !ok1 {
			return nil, errorf("an hex digit is expected (found '%c')", s[i])
		}
		if !ok2 {
			return nil, errorf("an hex digit is expected (found '%c')", s[i+1])
		}
		out[i/2] = h<<4 | l
	}
	return out, nil
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

func fetchConstMeth(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.B = TypeMeth, fe.b()
	return true
}

func checkConstMeth(fe *fetch, _ *Context) error {
	for i := 0; i < len(fe.args[0].s); i++ {
		if !h1.IsToken(fe.args[0].s[i]) {
			return errorf("expects valid method.")
		}
	}
	return nil
}

func fetchEnv(fe *fetch, t *Txn, v *Value) bool {
	s, ok := os.LookupEnv(fe.args[0].s)
	if !ok {
		return false
	}
	v.Type, v.B = TypeStr, t.keep(append(t.tmp(), s...))
	return true
}

const (
	unitS = iota
	unitMS
	unitUS
)

func checkDateUnit(fe *fetch, _ *Context) error { return dateUnit(fe.args) }

// dateUnit is smp_check_date_unit: the second argument names the unit.
func dateUnit(args []arg) error {
	if len(args) < 2 {
		return nil
	}
	switch args[1].s {
	case "s":
		args[1].i = unitS
	case "ms":
		args[1].i = unitMS
	case "us":
		args[1].i = unitUS
	default:
		return errorf("expects 's', 'ms' or 'us', got '%s'", args[1].s)
	}
	return nil
}

// now is the clock the date fetches and converters read.
var now = time.Now

func fetchDate(fe *fetch, t *Txn, v *Value) bool {
	n := now()
	s := n.Unix()
	switch argInt(fe.args, 1, unitS) {
	case unitMS:
		s = s*1000 + int64(n.Nanosecond()/1e6)
	case unitUS:
		s = s*1000000 + int64(n.Nanosecond()/1e3)
	}
	v.Type, v.I, v.MayChange = TypeInt, s+argInt(fe.args, 0, 0), true
	return true
}

func fetchDateUS(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, int64(now().Nanosecond()/1e3)
	return true
}

var hostname = sync.OnceValue(func() string { h, _ := os.Hostname(); return h })

func fetchHostname(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.B = TypeStr, t.keep(append(t.tmp(), hostname()...))
	return true
}

func fetchOne(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, 1
	return true
}

func fetchZero(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeInt, 0
	return true
}

func random32() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func fetchRand(fe *fetch, t *Txn, v *Value) bool {
	n := int64(random32())
	if hasArg(fe.args, 0) {
		n = int64((uint64(n) * uint64(fe.args[0].i)) >> 32)
	}
	v.Type, v.I, v.MayChange = TypeInt, n, true
	return true
}

func checkUUID(fe *fetch, _ *Context) error {
	if hasArg(fe.args, 0) && fe.args[0].i != 4 {
		return errorf("Unsupported UUID version: '%d'", fe.args[0].i)
	}
	return nil
}

// fetchUUID is a random (version 4) UUID, as ha_generate_uuid writes it.
func fetchUUID(fe *fetch, t *Txn, v *Value) bool {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	out := t.tmp()
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&15])
	}
	v.Type, v.B, v.MayChange = TypeStr, t.keep(out), true
	return true
}

// fetchProxyTLV is fc_pp_authority and fc_pp_unique_id.
func fetchProxyTLV(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	b, ok := t.Env.ProxyTLV(fe.def.name == "fc_pp_unique_id")
	if !ok {
		return false
	}
	v.Type, v.B = TypeStr, b
	return true
}

// fetchTimeout is be_server_timeout, be_tunnel_timeout and their cur_
// forms: milliseconds, 0 when unset.
func fetchTimeout(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	server, tunnel, curServer, curTunnel, ok := t.Env.Timeouts()
	if !ok {
		return false
	}
	d := server
	switch fe.def.name {
	case "be_tunnel_timeout":
		d = tunnel
	case "cur_server_timeout":
		d = curServer
	case "cur_tunnel_timeout":
		d = curTunnel
	}
	v.Type, v.I = TypeInt, d.Milliseconds()
	return true
}

// fetchFirstReq is http_first_req: whether the request is the first of
// its connection (HAProxy's TX_NOT_FIRST unset).
func fetchFirstReq(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	v.Type, v.I = TypeBool, 0
	if t.Env.FirstRequest() {
		v.I = 1
	}
	return true
}

func fetchStopping(fe *fetch, t *Txn, v *Value) bool {
	v.Type, v.I = TypeBool, 0
	if t.Env != nil && t.Env.Stopping() {
		v.I = 1
	}
	return true
}

func checkVar(fe *fetch, ctx *Context) error {
	sc, n, ok := ParseVarName(fe.args[0].s)
	if !ok {
		return varNameErr(fe.args[0].s)
	}
	fe.scope, fe.vname = sc, n
	if !ctx.DeclareVar(sc, n) {
		// tune.vars.proc-max-size leaves no room: HAProxy's error has
		// no text.
		return errorf("(null)")
	}
	return nil
}

func fetchVar(fe *fetch, t *Txn, v *Value) bool {
	if t.getVar(fe.scope, fe.vname, v) {
		return true
	}
	if hasArg(fe.args, 1) {
		v.Type, v.B = TypeStr, fe.args[1].b
		return true
	}
	return false
}

func addrValue(a netip.Addr, v *Value) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	v.Type, v.IP = TypeIPv4, a
	if a.Is6() {
		v.Type = TypeIPv6
	}
	return true
}

func fetchSrc(fe *fetch, t *Txn, v *Value) bool { return addrValue(t.Src.Addr(), v) }
func fetchDst(fe *fetch, t *Txn, v *Value) bool { return addrValue(t.Dst.Addr(), v) }

// connAddr is the connection's source or destination: what fc_src and
// its kin read, below the changes of session and stream rules.
func (t *Txn) connAddr(dst bool) netip.AddrPort {
	if dst {
		if t.ConnDst.IsValid() {
			return t.ConnDst
		}
		return t.Dst
	}
	if t.ConnSrc.IsValid() {
		return t.ConnSrc
	}
	return t.Src
}

func fetchConnAddr(fe *fetch, t *Txn, v *Value) bool {
	return addrValue(t.connAddr(fe.def.name == "fc_dst").Addr(), v)
}

func fetchConnPort(fe *fetch, t *Txn, v *Value) bool {
	a := t.connAddr(fe.def.name == "fc_dst_port")
	if !a.IsValid() {
		return false
	}
	v.Type, v.I = TypeInt, int64(a.Port())
	return true
}

func fetchSrcPort(fe *fetch, t *Txn, v *Value) bool {
	if !t.Src.IsValid() {
		return false
	}
	v.Type, v.I = TypeInt, int64(t.Src.Port())
	return true
}

func fetchDstPort(fe *fetch, t *Txn, v *Value) bool {
	if !t.Dst.IsValid() {
		return false
	}
	v.Type, v.I = TypeInt, int64(t.Dst.Port())
	return true
}

// localAddrs caches the host's addresses for src_is_local/dst_is_local.
var localAddrs = sync.OnceValue(func() []netip.Addr {
	var out []netip.Addr
	as, _ := net.InterfaceAddrs()
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, x.Unmap())
			}
		}
	}
	return out
})

func isLocal(a netip.Addr, v *Value) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	v.Type, v.I = TypeBool, 0
	if a.IsLoopback() {
		v.I = 1
		return true
	}
	for _, x := range localAddrs() {
		if x == a {
			v.I = 1
		}
	}
	return true
}

func fetchSrcIsLocal(fe *fetch, t *Txn, v *Value) bool { return isLocal(t.Src.Addr(), v) }
func fetchDstIsLocal(fe *fetch, t *Txn, v *Value) bool { return isLocal(t.Dst.Addr(), v) }

func nameValue(t *Txn, s string, v *Value) bool {
	if s == "" {
		return false
	}
	v.Type, v.B = TypeStr, t.keep(append(t.tmp(), s...))
	return true
}

func fetchFeName(fe *fetch, t *Txn, v *Value) bool  { return nameValue(t, t.FeName, v) }
func fetchBeName(fe *fetch, t *Txn, v *Value) bool  { return nameValue(t, t.BeName, v) }
func fetchSrvName(fe *fetch, t *Txn, v *Value) bool { return nameValue(t, t.SrvName, v) }

func fetchLastRuleFile(fe *fetch, t *Txn, v *Value) bool {
	return t.LastRuleLine > 0 && nameValue(t, t.LastRuleFile, v)
}

func fetchLastRuleLine(fe *fetch, t *Txn, v *Value) bool {
	if t.LastRuleLine == 0 {
		return false
	}
	v.Type, v.I = TypeInt, int64(t.LastRuleLine)
	return true
}

func fetchSrvID(fe *fetch, t *Txn, v *Value) bool {
	if t.SrvName == "" {
		return false
	}
	v.Type, v.I = TypeInt, int64(t.SrvID)
	return true
}

func fetchSoName(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	n, _, ok := t.Env.Listener()
	return ok && nameValue(t, n, v)
}

func fetchSoID(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	_, id, ok := t.Env.Listener()
	v.Type, v.I = TypeInt, int64(id)
	return ok
}

// fetchProxyStat answers the frontend and backend counter fetches.
func fetchProxyStat(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	name := fe.def.name
	st, ok := t.Env.Proxy(argStr(fe.args, 0), strings.HasPrefix(name, "fe_"))
	if !ok {
		return false
	}
	v.Type = TypeInt
	switch name {
	case "fe_id", "be_id":
		v.I = int64(st.ID)
	case "fe_conn", "be_conn":
		v.I = st.Conn
	case "fe_req_rate":
		v.I = st.ReqRate
	case "fe_sess_rate", "be_sess_rate":
		v.I = st.SessRate
	case "be_conn_free":
		v.I = st.ConnFree
	case "nbsrv":
		v.I = st.UsableServers
	case "queue":
		v.I = st.Queue
	case "avg_queue":
		if st.UsableServers > 0 {
			v.I = (st.Queue + st.UsableServers - 1) / st.UsableServers
		} else {
			v.I = st.Queue * 2
		}
	case "connslots":
		v.I = st.ConnSlots
	}
	return true
}

// checkBackendArg resolves a backend argument as smp_resolve_args does:
// none (or an empty one) designates the expression's proxy, which must
// then be able to act as a backend; at run time it is the stream's.
func checkBackendArg(fe *fetch, c *Context) error {
	if c == nil || c.Servers == nil {
		return nil
	}
	b := argStr(fe.args, 0)
	switch {
	case b == "" && c.NoBackend:
		return &ResolveError{Kind: resNoBackend, Proxy: c.Proxy, Arg: 1, Keyword: fe.def.name}
	case b != "" && !c.Servers.HasBackend(b):
		return &ResolveError{Kind: resBackend, Proxy: b, Arg: 1, Keyword: fe.def.name}
	}
	return nil
}

// checkFrontendArg is checkBackendArg for the frontend fetches.
func checkFrontendArg(fe *fetch, c *Context) error {
	if c == nil || c.Servers == nil {
		return nil
	}
	f := argStr(fe.args, 0)
	if f == "" {
		if c.NoFrontend {
			return &ResolveError{Kind: resNoFrontend, Proxy: c.Proxy, Arg: 1, Keyword: fe.def.name}
		}
		return nil
	}
	if r, ok := c.Servers.(FrontendResolver); ok && !r.HasFrontend(f) {
		return &ResolveError{Kind: resFrontend, Proxy: f, Arg: 1, Keyword: fe.def.name}
	}
	return nil
}

// checkServer splits a "[backend/]server" argument.
func checkServer(fe *fetch, c *Context) error {
	s := fe.args[0].s
	if s == "" {
		return errorf("missing server name")
	}
	if b, srv, ok := strings.Cut(s, "/"); ok {
		fe.vname, fe.name = b, srv
	} else {
		fe.name = s
	}
	if c != nil && c.ServerRef != nil {
		b := fe.vname
		if b == "" {
			b = c.Proxy
		}
		c.ServerRef(b, fe.name)
	}
	if c != nil && c.Servers != nil {
		kw := fe.def.name
		px := c.Proxy
		switch {
		case fe.vname != "":
			if px = fe.vname; !c.Servers.HasBackend(px) {
				return &ResolveError{Kind: resSrvNoProxy, Proxy: px, Arg: 1, Keyword: kw}
			}
		case c.Defaults:
			return &ResolveError{Kind: resSrvNeedBackend, Arg: 1, Keyword: kw}
		}
		if !c.Servers.HasServer(px, fe.name) {
			return &ResolveError{Kind: resSrvNoServer, Server: fe.name, Proxy: px, Arg: 1, Keyword: kw}
		}
	}
	return nil
}

func fetchServerStat(fe *fetch, t *Txn, v *Value) bool {
	if t.Env == nil {
		return false
	}
	st, ok := t.Env.Server(fe.vname, fe.name)
	if !ok {
		return false
	}
	switch fe.def.name {
	case "srv_is_up":
		v.Type, v.I = TypeBool, 0
		if st.Up {
			v.I = 1
		}
	case "srv_conn":
		v.Type, v.I = TypeInt, st.Conn
	case "srv_sess_rate":
		v.Type, v.I = TypeInt, st.SessRate
	case "srv_conn_free":
		v.Type, v.I = TypeInt, st.ConnFree
	case "srv_iweight":
		v.Type, v.I = TypeInt, st.IWeight
	case "srv_uweight":
		v.Type, v.I = TypeInt, st.UWeight
	default:
		v.Type, v.I = TypeInt, st.Queue
	}
	return true
}

// url2ipv4 is HAProxy's: a dotted quad at the start of b; n is the bytes
// used, 0 when there is none.
func url2ipv4(b []byte) (netip.Addr, int) {
	n := 0
	for n < len(b) && (b[n] >= '0' && b[n] <= '9' || b[n] == '.') {
		n++
	}
	a, ok := buf2ip(b[:n])
	if !ok {
		return netip.Addr{}, 0
	}
	return a, n
}
