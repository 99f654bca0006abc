package stats

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Stream is one stream as "show sess" lists it: the fields gohap has a
// counterpart for. HAProxy's task, channel and stream connector
// internals (flags, analysers, call counts) have none and print as 0.
type Stream struct {
	// ID identifies the stream while it lives; "show sess" prints it as
	// HAProxy prints the stream's address.
	ID    uint64
	Start time.Time
	// Epoch is the stream epoch (stream_epoch) when the stream began.
	Epoch uint32
	// Proto is the listener's protocol name (tcpv4, tcpv6, unix_stream).
	Proto string
	// Src and Dst are the client's and the listener's addresses, nil for
	// a unix socket; ListenerID is the bind's id in its frontend and
	// ListenerName its name, "" when none.
	Src, Dst     net.Addr
	ListenerID   int
	ListenerName string
	Frontend     string
	FrontendID   int
	FrontendMode string
	// Backend is "" before the stream has one; Server "" without a
	// server, ServerID then 0.
	Backend     string
	BackendID   int
	BackendMode string
	Server      string
	ServerID    int
	// SrvLocal and SrvAddr are the server connection's addresses, nil
	// without one.
	SrvLocal, SrvAddr net.Addr
	// CliFD and SrvFD are the sockets, -1 when none; SrvUp says the
	// server side is established (an applet for the CLI).
	CliFD, SrvFD int
	SrvUp        bool
	// Retries is the connection retry count (conn_retries); Nice the
	// stream's scheduling priority.
	Retries, Nice int
	// ReqRx and RspRx are when the client's and the server's read
	// timeouts expire, zero when none runs.
	ReqRx, RspRx time.Time
}

// StreamSource is a Source whose streams "show sess" lists and
// "shutdown session" kills.
type StreamSource interface {
	// NewStream numbers a stream that begins: its id and epoch.
	NewStream() (id uint64, epoch uint32)
	// BumpEpoch is "show sess": it returns the epoch before the bump.
	BumpEpoch() uint32
	// Streams returns the proxy's streams (not the CLI's).
	Streams() []Stream
	// KillStream ends the stream with this id, logged as killed;
	// false when there is none.
	KillStream(id uint64) bool
	// KillServer kills the streams on a server.
	KillServer(backend, server string)
}

// streamCounters number the CLI's streams when the Source does not.
type streamCounters struct {
	seq   atomic.Uint64
	epoch atomic.Uint32
}

func (s *CLI) newStream() (uint64, uint32) {
	if ss, ok := s.src.(StreamSource); ok {
		return ss.NewStream()
	}
	return s.strm.seq.Add(1), s.strm.epoch.Load()
}

func (s *CLI) bumpEpoch() uint32 {
	if ss, ok := s.src.(StreamSource); ok {
		return ss.BumpEpoch()
	}
	return s.strm.epoch.Add(1) - 1
}

// cliStream is the stream of a CLI connection.
type cliStream struct {
	id    uint64
	start time.Time
	epoch atomic.Uint32
	// rx is when the idle timeout expires (unix nanos), 0 while a
	// command runs.
	rx atomic.Int64
	l  *listener
	c  net.Conn
}

func sessCommands() []command {
	return []command{
		{words: []string{"show", "sess"}, usage: "show sess [id]                          : report the list of current sessions or dump this exact session", run: (*session).showSess},
		{words: []string{"shutdown", "session"}, usage: "shutdown session [id]                   : kill a specific session", run: (*session).shutdownSession},
		{words: []string{"shutdown", "sessions", "server"}, usage: "shutdown sessions server <bk>/<srv>     : kill sessions on a server", run: (*session).shutdownServer},
	}
}

// streams returns the CLI's and the proxy's streams begun up to epoch,
// in creation order (HAProxy's stream list with one thread).
func (s *CLI) streams(epoch uint32) []Stream {
	var out []Stream
	if ss, ok := s.src.(StreamSource); ok {
		out = ss.Streams()
	}
	s.mu.Lock()
	for cs := range s.strms {
		out = append(out, cs.stream())
	}
	s.mu.Unlock()
	n := 0
	for _, st := range out {
		if int32(st.Epoch-epoch) <= 0 {
			out[n] = st
			n++
		}
	}
	out = out[:n]
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (cs *cliStream) stream() Stream {
	st := Stream{ID: cs.id, Start: cs.start, Epoch: cs.epoch.Load(), Frontend: "GLOBAL", FrontendMode: "tcp",
		ListenerID: cs.l.id, CliFD: ConnFD(cs.c), SrvFD: -1, SrvUp: true,
		// HAProxy boosts the stats sockets' streams (cli.c).
		Nice: -64}
	st.Src, st.Dst = cs.c.RemoteAddr(), cs.c.LocalAddr()
	switch a := st.Dst.(type) {
	case *net.TCPAddr:
		st.Proto = "tcpv6"
		if a.IP.To4() != nil {
			st.Proto = "tcpv4"
		}
	default:
		st.Proto, st.Src, st.Dst = "unix_stream", nil, nil
	}
	if rx := cs.rx.Load(); rx != 0 {
		st.ReqRx = time.Unix(0, rx)
	}
	return st
}

// ConnFD is the descriptor of a connection, -1 once closed.
func ConnFD(c any) int {
	fd := -1
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// strtoul reads a number as strtoul(s, NULL, 0): blanks, a sign, then
// hexadecimal after 0x, octal after 0, decimal otherwise.
func strtoul(s string) uint64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hexDigit(s[2]) >= 0:
		base, s = 16, s[2:]
	case len(s) > 0 && s[0] == '0':
		base = 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := hexDigit(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		n = n*base + uint64(d)
	}
	if neg {
		n = -n
	}
	return n
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// showSess is "show sess [all|<id>]", at level operator: streams begun
// after the command are not listed.
func (ss *session) showSess(args []string) bool {
	if ss.level < LevelOperator {
		ss.out.WriteString(permissionDenied)
		return false
	}
	var target uint64
	all := false
	if a := arg(args, 2); a == "all" {
		all = true
	} else if a != "" {
		target = strtoul(a)
	}
	epoch := ss.srv.bumpEpoch()
	if ss.strm != nil {
		ss.strm.epoch.Store(epoch)
	}
	now := time.Now()
	for _, st := range ss.srv.streams(epoch) {
		switch {
		case all || target != 0 && st.ID == target:
			ss.out.WriteString(st.detail(now))
			if !all {
				return false
			}
		case target == 0:
			ss.out.WriteString(st.line(now))
		}
	}
	if target != 0 {
		ss.out.WriteString("Session not found.\n")
	}
	return false
}

// shutdownSession is "shutdown session <id>", at level admin.
func (ss *session) shutdownSession(args []string) bool {
	if ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	id := strtoul(arg(args, 2))
	if id == 0 {
		ss.out.WriteString("Session pointer expected (use 'show sess').\n")
		return false
	}
	if ss.srv.killStream(id) {
		return false
	}
	ss.out.WriteString("No such session (use 'show sess').\n")
	return false
}

// killStream ends a CLI stream or a proxy one.
func (s *CLI) killStream(id uint64) bool {
	s.mu.Lock()
	for cs := range s.strms {
		if cs.id == id {
			s.mu.Unlock()
			cs.c.Close()
			return true
		}
	}
	s.mu.Unlock()
	if ss, ok := s.src.(StreamSource); ok {
		return ss.KillStream(id)
	}
	return false
}

// shutdownServer is "shutdown sessions server <bk>/<srv>", at level admin.
func (ss *session) shutdownServer(args []string) bool {
	be, s, ok := ss.adminServer(arg(args, 3))
	if !ok {
		return false
	}
	if src, ok := ss.srv.src.(StreamSource); ok {
		src.KillServer(be.Name, s.Name)
	}
	return false
}

// ptr prints a stream id as HAProxy prints a pointer (%p).
func ptr(id uint64) string { return "0x" + strconv.FormatUint(id, 16) }

// epochHex is %#x.
func epochHex(e uint32) string {
	if e == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(uint64(e), 16)
}

// left is human_time of the time to t in seconds, "" when t is zero.
func left(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return humanTime(int(t.Sub(now) / time.Second))
}

// addrKind splits an address as addr_to_str: "ip", port for IP ones.
func addrIP(a net.Addr) (string, int, bool) {
	if ta, ok := a.(*net.TCPAddr); ok && ta != nil {
		ip := ta.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		return ip.String(), ta.Port, true
	}
	return "", 0, false
}

func (st *Stream) scState() (int, int) {
	cli, srv := 8, 0 // SC_ST_EST, SC_ST_INI
	if st.SrvUp || st.SrvFD >= 0 {
		srv = 8
	}
	return cli, srv
}

// line is one line of "show sess" (cli_io_handler_dump_sess).
func (st *Stream) line(now time.Time) string {
	var b strings.Builder
	b.WriteString(ptr(st.ID) + ": proto=" + st.Proto)
	be, srv := st.Backend, st.Server
	if be == "" {
		be = "<NONE>"
	}
	if srv == "" {
		srv = "<none>"
	}
	if ip, port, ok := addrIP(st.Src); ok {
		fmt.Fprintf(&b, " src=%s:%d fe=%s be=%s srv=%s", ip, port, st.Frontend, be, srv)
	} else if st.Src == nil && st.Proto == "unix_stream" {
		fmt.Fprintf(&b, " src=unix:%d fe=%s be=%s srv=%s", st.ListenerID, st.Frontend, be, srv)
	}
	fmt.Fprintf(&b, " ts=00 epoch=%s age=%s calls=0 rate=0 cpu=0 lat=0", epochHex(st.Epoch), humanTime(int(now.Unix()-st.Start.Unix())))
	fmt.Fprintf(&b, " rq[f=000000h,i=0,an=00h,rx=%s,wx=,ax=] rp[f=000000h,i=0,an=00h,rx=%s,wx=,ax=]", left(st.ReqRx, now), left(st.RspRx, now))
	cs, ss := st.scState()
	fmt.Fprintf(&b, " scf=[%d,0h,fd=%d] scb=[%d,0h,fd=%d] exp= rc=%d c_exp=\n", cs, st.CliFD, ss, st.SrvFD, st.Retries)
	return b.String()
}

// never is human_time of a timer, "<NEVER>" when none runs.
func never(t, now time.Time) string {
	if t.IsZero() {
		return "<NEVER>"
	}
	return left(t, now)
}

// detail is the dump of "show sess <id>" and "show sess all"
// (stats_dump_full_strm_to_buffer), with HAProxy's internals at 0.
func (st *Stream) detail(now time.Time) string {
	var b strings.Builder
	t := st.Start
	fmt.Fprintf(&b, "%s: [%02d/%s/%04d:%02d:%02d:%02d.%06d] id=%d proto=%s", ptr(st.ID), t.Day(), monthNames[t.Month()-1], t.Year(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000, st.ID, st.Proto)
	unixSrc := st.Proto == "unix_stream"
	if ip, port, ok := addrIP(st.Src); ok {
		fmt.Fprintf(&b, " source=%s:%d\n", ip, port)
	} else if unixSrc {
		fmt.Fprintf(&b, " source=unix:%d\n", st.ListenerID)
	} else {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  flags=0x0, conn_retries=%d, conn_exp=<NEVER> conn_et=0x000 srv_conn=(nil), pend_pos=(nil) waiting=0 epoch=%s\n", st.Retries, epochHex(st.Epoch))
	lname := st.ListenerName
	if lname == "" {
		lname = "?"
	}
	fmt.Fprintf(&b, "  frontend=%s (id=%d mode=%s), listener=%s (id=%d)", st.Frontend, st.FrontendID, st.FrontendMode, lname, st.ListenerID)
	if ip, port, ok := addrIP(st.Dst); ok {
		fmt.Fprintf(&b, " addr=%s:%d\n", ip, port)
	} else if unixSrc {
		fmt.Fprintf(&b, " addr=unix:%d\n", st.ListenerID)
	} else {
		b.WriteString("\n")
	}
	srvAddr := func(a net.Addr) {
		if ip, port, ok := addrIP(a); ok {
			fmt.Fprintf(&b, " addr=%s:%d\n", ip, port)
		} else if _, ok := a.(*net.UnixAddr); ok {
			b.WriteString(" addr=unix\n")
		} else {
			b.WriteString("\n")
		}
	}
	if st.Backend != "" {
		fmt.Fprintf(&b, "  backend=%s (id=%d mode=%s)", st.Backend, st.BackendID, st.BackendMode)
		srvAddr(st.SrvLocal)
		srv := st.Server
		if srv == "" {
			srv = "<none>"
		}
		fmt.Fprintf(&b, "  server=%s (id=%d)", srv, st.ServerID)
	} else {
		b.WriteString("  backend=<NONE> (id=-1 mode=-)")
		srvAddr(st.SrvLocal)
		b.WriteString("  server=<NONE> (id=-1)")
	}
	srvAddr(st.SrvAddr)
	fmt.Fprintf(&b, "  task=(nil) (state=0x00 nice=%d calls=0 rate=0 exp=<NEVER> tmask=0x1 age=%s)\n", st.Nice, humanTime(int(now.Unix()-st.Start.Unix())))
	cs, ss := st.scState()
	scName := [...]string{0: "INI", 8: "EST"}
	fmt.Fprintf(&b, "  scf=(nil) flags=0x00000000 state=%s endp=CONN,(nil),0x00000000 sub=0\n", scName[cs])
	fmt.Fprintf(&b, "      co0=(nil) ctrl=%s xprt=RAW mux=PASS data=STRM target=LISTENER:(nil)\n", st.Proto)
	fmt.Fprintf(&b, "      flags=0x00000000 fd=%d fd.state=00 updt=0 fd.tmask=0x1\n", st.CliFD)
	endp := "NONE"
	switch {
	case st.Frontend == "GLOBAL":
		endp = "APPCTX"
	case st.SrvFD >= 0:
		endp = "CONN"
	}
	fmt.Fprintf(&b, "  scb=(nil) flags=0x00000000 state=%s endp=%s,(nil),0x00000000 sub=0\n", scName[ss], endp)
	switch endp {
	case "CONN":
		ctrl := "tcpv4"
		if ip, _, ok := addrIP(st.SrvAddr); ok && strings.Contains(ip, ":") {
			ctrl = "tcpv6"
		} else if _, ok := st.SrvAddr.(*net.UnixAddr); ok {
			ctrl = "unix_stream"
		}
		fmt.Fprintf(&b, "      co1=(nil) ctrl=%s xprt=RAW mux=PASS data=STRM target=SERVER:(nil)\n", ctrl)
		fmt.Fprintf(&b, "      flags=0x00000000 fd=%d fd.state=00 updt=0 fd.tmask=0x1\n", st.SrvFD)
	case "APPCTX":
		fmt.Fprintf(&b, "      app1=(nil) st0=0 st1=0 st2=0 applet=<CLI> tmask=0x1 nice=%d calls=0 rate=0 cpu=0 lat=0\n", st.Nice)
	}
	for _, ch := range [2]struct {
		name string
		rx   time.Time
	}{{"req", st.ReqRx}, {"res", st.RspRx}} {
		fmt.Fprintf(&b, "  %s=(nil) (f=0x000000 an=0x0 pipe=0 tofwd=0 total=0)\n      an_exp=<NEVER> rex=%s wex=<NEVER>\n      buf=(nil) data=(nil) o=0 p=0 i=0 size=0\n", ch.name, never(ch.rx, now))
	}
	return b.String()
}
