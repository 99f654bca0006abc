package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Check holds a server's health-check settings (HAProxy defaults: inter
// 2s, rise 2, fall 3).
type Check struct {
	Enabled bool
	Inter   time.Duration
	// Spread is spread-checks: each interval after a check varies at
	// random by up to this percentage either way.
	Spread int
	// FastInter is used while the server is changing state, DownInter
	// while it is down; zero means Inter.
	FastInter, DownInter time.Duration
	Rise                 int
	Fall                 int
	// Timeout bounds one check; zero uses Inter.
	Timeout time.Duration
	// Connect is the proxy's "timeout connect": with Timeout set, a
	// check connects within min(Connect, Inter), then Timeout bounds
	// the rest, as HAProxy does.
	Connect time.Duration
	// Addr is where checks connect ("addr" option, with Port or the
	// server's port); "" follows the server's current address, on Port
	// when it is set ("port" option).
	Addr string
	Port string
	// HTTP, when set, makes this an HTTP check (option httpchk).
	HTTP *HTTPCheck
	// TCP, when set, holds tcp-check steps played after the connect.
	TCP []TCPStep
	// Proto, when set, is a protocol check (mysql, pgsql, ldap, ssl).
	Proto *ProtoCheck
	// Preamble gives the PROXY protocol header of a check connection
	// from local to remote, written first on default connections with
	// SendProxy (check-send-proxy) and on those of "connect send-proxy"
	// rules.
	Preamble  func(local, remote netip.AddrPort) []byte
	SendProxy bool
	// ViaSocks4 sends default connections through the server's SOCKS4
	// proxy (check-via-socks4), as "connect via-socks4" rules do.
	ViaSocks4 bool
	// Mux, when set, carries the HTTP check of the default connection
	// over another protocol (check-proto h2, or proto h2).
	Mux func(net.Conn) (net.Conn, error)
	// TLS, when set, makes checks speak TLS after the preamble
	// (check-ssl, or an "ssl" server checked on its own address).
	TLS *tls.Config
	// TLSCount, when set, counts the checks' TLS connections in the
	// process' figures (show info).
	TLSCount TLSCounter
	// StepTLS is the server's TLS settings for "tcp-check connect ssl"
	// rules, also without check-ssl.
	StepTLS *tls.Config
	// Ext, when set, makes this an external check: a command is run,
	// nothing connects.
	Ext *ExtCheck
	// First is when the first check runs (SpreadChecks).
	First time.Duration
}

// RunChecks runs the TCP-connect health checks of every server with
// "check" until ctx is done. Servers start UP, as HAProxy's do, and go
// DOWN after Fall consecutive failures, back UP after Rise successes.
func (b *Backend) RunChecks(ctx context.Context) {
	for _, s := range b.Servers {
		if s.Check.Enabled {
			go s.checkLoop(ctx)
		}
		if s.Agent.Enabled {
			s.Agent.health.Store(int32(s.Agent.Rise))
			s.Agent.status.Store(int32(CheckIni))
			go s.agentLoop(ctx)
		}
	}
}

// SpreadChecks is HAProxy's start_checks: the checks of the servers
// given in configuration order (each server's health check, then its
// agent) start spread over the shortest of their intervals of at least a
// second (at most maxSpread when set: max-spread-checks), the first at
// once.
func SpreadChecks(servers []*Server, maxSpread time.Duration) {
	n, minInter := 0, time.Duration(0)
	note := func(d time.Duration) {
		n++
		if d >= time.Second && (minInter == 0 || d < minInter) {
			minInter = d
		}
	}
	for _, s := range servers {
		if s.Check.Enabled {
			note(s.Check.interval(s.CheckHealth(), s.State()))
		}
		if s.Agent.Enabled {
			note(s.Agent.Inter)
		}
	}
	pos := 0
	start := func(d time.Duration) time.Duration {
		m := max(minInter, d)
		if maxSpread > 0 && m > maxSpread {
			m = maxSpread
		}
		at := time.Duration(int64(m) * int64(pos) / int64(n))
		pos++
		return at
	}
	for _, s := range servers {
		if s.Check.Enabled {
			s.Check.First = start(s.Check.interval(s.CheckHealth(), s.State()))
		}
		if s.Agent.Enabled {
			s.Agent.First = start(s.Agent.Inter)
		}
	}
}

func (s *Server) checkLoop(ctx context.Context) {
	c := s.Check
	// HAProxy starts a checked server UP with a health of rise (New).
	prev := ""
	t := time.NewTimer(c.First)
	defer t.Stop()
	next := time.Now().Add(c.First)
	arm := func(d time.Duration) {
		t.Reset(d)
		next = time.Now().Add(d)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-s.hana.kick:
			// The observed errors bring the next check forward when
			// fastinter is sooner; a timer that just expired (and whose
			// tick Stop dropped) fires again at once.
			left := time.Until(next)
			if !t.Stop() {
				left = 0
			}
			arm(min(d, max(left, 0)))
			continue
		case <-t.C:
		}
		if s.inMaint() || s.checkOff() {
			// Checks pause in maintenance.
			arm(c.interval(s.CheckHealth(), s.State()))
			continue
		}
		// HCHK_STATUS_START: no result while the check runs.
		s.inProgress.Store(true)
		s.chkResult.Store(int32(ResultUnknown))
		start := time.Now()
		reason, res := s.probe(ctx)
		dur := time.Since(start)
		if ctx.Err() != nil {
			return
		}
		kind, _, _ := strings.Cut(reason, ",")
		// The status decides the result: an expect rule's ok-status or
		// error-status may name any.
		switch checkStatuses[statusOf(kind, res)].result {
		case ResultPassed:
			res = checkPassed
		case ResultCondPass:
			res = checkCondPassed
		case ResultFailed:
			res = checkFailed
		}
		ok, cond := res != checkFailed, res == checkCondPassed
		state := c.stateReason(reason, ok) + ", check duration: " + ms(dur)
		reason += ", check duration: " + ms(dur)
		s.mu.Lock()
		s.inProgress.Store(false)
		st := statusOf(kind, res)
		if c, ok := reportCode(reason); ok {
			s.chkCode.Store(int32(c))
		}
		s.setCheckDesc(reason)
		s.chkStatus.Store(int32(st))
		s.chkResult.Store(int32(checkStatuses[st].result))
		// set_server_check_status: a failure costs one point and drops
		// to 0 below rise; a success gains one and, on reaching rise,
		// restores the full rise+fall-1.
		health := s.CheckHealth()
		report := false
		if ok {
			if health < c.Rise+c.Fall-1 {
				report = true
				if health++; health >= c.Rise {
					health = c.Rise + c.Fall - 1
				}
			}
		} else if health > 0 {
			report = true
			s.chkFails.Add(1)
			if health--; health < c.Rise {
				health = 0
			}
		}
		s.health.Store(int32(health))
		if b := s.Backend; b.LogHealthChecks && b.OnCheck != nil && (report || kind != prev) {
			b.OnCheck(s, s.checkReport(ok, cond, reason, health))
		}
		prev = kind
		// A check that ends after maintenance began still counts, as
		// in HAProxy, but changes no state.
		switch st := s.State(); {
		case s.inMaint():
		case health >= c.Rise && cond && st == Up:
			// check_notify_stopping: HAProxy says nothing of it.
			s.setQuietLocked(Stopping)
		case health >= c.Rise && !cond && (st == Down || st == Stopping) && s.agentOK():
			s.setStateLocked(Up, state+".")
		case health < c.Rise && (st == Up || st == Stopping):
			s.setStateLocked(Down, state+".")
		}
		s.mu.Unlock()
		arm(spreadInter(c.interval(health, s.State()), c.Spread))
	}
}

// spreadInter is the delay to the next check after one ended: the
// interval, varied at random by up to pct percent either way
// (spread-checks), in whole milliseconds as HAProxy's ticks.
func spreadInter(d time.Duration, pct int) time.Duration {
	if pct <= 0 {
		return d
	}
	ms := d.Milliseconds()
	rv := ms * int64(pct) / 100
	rv -= int64(2 * float64(rv) * rand.Float64())
	return time.Duration(ms+rv) * time.Millisecond
}

// reportCode reads the ", code: N" of a check's report.
func reportCode(reason string) (int, bool) {
	_, rest, ok := strings.Cut(reason, ", code: ")
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && (rest[end] >= '0' && rest[end] <= '9' || end == 0 && rest[end] == '-') {
		end++
	}
	c, err := strconv.Atoi(rest[:end])
	return c, err == nil
}

// stateReason is the report a change of state shows: a protocol check
// whose success info is not kept (QuietSuccess) ends with an empty one,
// as HAProxy sets its final status again without it.
func (c *Check) stateReason(reason string, ok bool) string {
	if ok && c.Proto != nil && c.Proto.QuietSuccess {
		reason, _, _ = strings.Cut(reason, ", info: ")
	}
	return reason
}

// checkReport is HAProxy's log-health-checks line.
func (s *Server) checkReport(ok, cond bool, reason string, health int) string {
	c := s.Check
	var b strings.Builder
	b.WriteString("Health check for ")
	if s.Backup {
		b.WriteString("backup ")
	}
	b.WriteString("server " + s.Backend.Name + "/" + s.Name)
	if cond {
		b.WriteString(" conditionally succeeded")
	} else if ok {
		b.WriteString(" succeeded")
	} else {
		b.WriteString(" failed")
	}
	b.WriteString(", reason: " + reason + ", status: ")
	switch {
	case health < c.Rise:
		b.WriteString(itoa(health) + "/" + itoa(c.Rise) + " DOWN")
	case s.weight() == 0:
		b.WriteString(itoa(health-c.Rise+1) + "/" + itoa(c.Fall) + " DRAIN")
	default:
		b.WriteString(itoa(health-c.Rise+1) + "/" + itoa(c.Fall) + " UP")
	}
	return b.String()
}

// interval is the delay before the next check, as HAProxy chooses it.
func (c *Check) interval(health int, st State) time.Duration {
	switch {
	case (st == Down || st == Maint) && health == 0 && c.DownInter > 0:
		return c.DownInter
	case health > 0 && health < c.Rise+c.Fall-1 && c.FastInter > 0:
		// Between fully up and down, a transition is in progress.
		return c.FastInter
	}
	return c.Inter
}

func ms(d time.Duration) string {
	return itoa(int(d/time.Millisecond)) + "ms"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// lingers reports whether the check's first connection closes cleanly.
func (c *Check) lingers() bool {
	switch {
	case c.Proto != nil:
		return c.Proto.Linger
	case c.HTTP != nil:
		return len(c.HTTP.Steps) > 0 && c.HTTP.Steps[0].Linger
	case len(c.TCP) > 0:
		i := firstConnect(c.TCP)
		return i >= 0 && c.TCP[i].Linger
	}
	return false
}

// checkResult is a check's outcome; a conditional pass is a 404 under
// http-check disable-on-404.
type checkResult uint8

const (
	checkFailed checkResult = iota
	checkPassed
	checkCondPassed
)

func passedIf(ok bool) checkResult {
	if ok {
		return checkPassed
	}
	return checkFailed
}

func (s *Server) probe(ctx context.Context) (string, checkResult) {
	timeout, connTimeout := s.Check.Timeout, s.Check.Inter
	if timeout == 0 {
		timeout = s.Check.Inter
	} else if c := s.Check.Connect; c > 0 && c < connTimeout {
		connTimeout = c
	}
	if x := s.Check.Ext; x != nil {
		return x.run(ctx, s)
	}
	checkSessions.Add(1)
	// Without "timeout check", inter bounds the whole check; with it,
	// the connect has min(timeout connect, inter) and "timeout check"
	// runs from the connection on.
	cctx, cancel := context.WithTimeout(ctx, max(timeout, connTimeout))
	defer cancel()
	dctx := cctx
	if connTimeout != timeout {
		var dcancel context.CancelFunc
		dctx, dcancel = context.WithTimeout(ctx, connTimeout)
		defer dcancel()
	}
	c := &CheckCtx{Server: s}
	addr := s.Check.Addr
	if addr == "" {
		addr = s.Address()
		if s.Check.Port != "" {
			addr = withPort(addr, s.Check.Port)
		}
	}
	addr = retarget(addr, s.rt.check.Load())
	dial := addr
	if s.Check.HTTP != nil {
		dial = s.Check.HTTP.firstAddr(addr)
	}
	fc := firstConnect(s.Check.TCP)
	if fc >= 0 && s.Check.TCP[fc].Port != "" {
		dial = withPort(addr, s.Check.TCP[fc].Port)
	}
	// The first connection is the implicit connect's, or that of a
	// leading connect rule, which takes the server's check settings
	// only with "default".
	dflt, sendProxy, via := true, false, false
	if fc >= 0 {
		st := &s.Check.TCP[fc]
		dflt, sendProxy, via = st.Default, st.SendProxy, st.ViaSocks4
	} else if h := s.Check.HTTP; h != nil && len(h.Steps) > 0 {
		dflt, sendProxy, via = h.Steps[0].Default, h.Steps[0].SendProxy, h.Steps[0].ViaSocks4
	}
	if s.plainL4() {
		if r, ok := connectOnly(dial, connTimeout, s.NetNS, s.SockOpts); ok {
			return r, passedIf(r == "Layer4 check passed")
		}
	}
	var d net.Dialer
	conn, err := s.dialCheck(dctx, &d, dial, dflt, via)
	if err == nil && connTimeout != timeout {
		// "timeout check" starts once connected.
		var ccancel context.CancelFunc
		cctx, ccancel = context.WithTimeout(ctx, timeout)
		defer ccancel()
	}
	if err != nil {
		// An explicit first connect rule is named as a tcp-check step.
		where := ""
		if fc >= 0 {
			first := s.Check.TCP[fc]
			step := first.Step
			if step == 0 {
				step = fc + 1
			}
			what := "connect"
			if first.Port != "" {
				what += " port " + first.Port
			}
			where = " at step " + strconv.Itoa(step) + " of tcp-check (" + what + ")"
		}
		if r, ok := socks4Report(err, where); ok {
			return r, checkFailed
		}
		if r, ok := sourceReport(err, where); ok {
			return r, checkFailed
		}
		var errno syscall.Errno
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return `Layer4 connection problem, info: "Connection refused` + where + `"`, checkFailed
		case errors.Is(err, context.DeadlineExceeded) || dctx.Err() != nil:
			if where != "" {
				return `Layer4 timeout, info: "` + where + `"`, checkFailed
			}
			return "Layer4 timeout", checkFailed
		case errors.As(err, &errno):
			return `Layer4 connection problem, info: "General socket error (` + strerror(errno) + `)` + where + `"`, checkFailed
		default:
			return `Layer4 connection problem, info: "General socket error` + where + `"`, checkFailed
		}
	}
	// HAProxy ends a check's connection with a reset, unless its connect
	// rule says linger.
	lingers := s.Check.lingers()
	defer closeCheckConn(conn, lingers)
	if !lingers {
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
	nc, reason := s.setupConn(cctx, conn, dflt, sendProxy, timeout)
	if reason == "" && fc >= 0 && s.Check.TCP[fc].SSL && !dflt {
		st := &s.Check.TCP[fc]
		step := fc + 1
		if st.Step > 0 {
			step = st.Step
		}
		nc, reason = s.stepTLS(cctx, nc, st, timeout, " at step "+strconv.Itoa(step)+" of tcp-check (connect)")
	}
	if reason != "" {
		return reason, checkFailed
	}
	if nc != conn {
		defer nc.Close()
		conn = nc
		if s.Check.Proto == nil && s.Check.TCP == nil && s.Check.HTTP == nil {
			return "Layer6 check passed", checkPassed
		}
	}
	if s.Check.Proto != nil {
		r, ok := s.Check.Proto.run(conn, time.Now().Add(timeout))
		return r, passedIf(ok)
	}
	if s.Check.TCP != nil {
		r, ok := runTCP(ctx, conn, addr, s.Check.TCP, time.Now().Add(timeout), c)
		return r, passedIf(ok)
	}
	if s.Check.HTTP == nil {
		return "Layer4 check passed", checkPassed
	}
	return s.Check.HTTP.run(ctx, conn, addr, time.Now().Add(timeout), c)
}

// dialCheck opens a check connection to addr: through the server's
// SOCKS4 proxy on a default connection with check-via-socks4, or on a
// connect rule's with via-socks4, when the server has one
// (tcpcheck_eval_connect); directly otherwise.
func (s *Server) dialCheck(ctx context.Context, d *net.Dialer, addr string, dflt, via bool) (net.Conn, error) {
	if s.Source != nil || s.SockOpts != (SockOpts{}) {
		dd := *d
		dd.LocalAddr, dd.Control = nil, nil
		if s.Source != nil {
			// Checks have no client: usesrc does not apply
			// (tcp_connect_server finds no conn->src).
			dd.Control = s.Source.Control
		}
		// Checks are connected to as the server (tcp_connect_server).
		dd.Control = s.SockOpts.Control(dd.Control)
		d = &dd
	}
	if s.Socks4 == "" || !(via || dflt && s.Check.ViaSocks4) {
		return DialIn(ctx, s.NetNS, d, addr)
	}
	c, err := DialIn(ctx, s.NetNS, d, s.Socks4)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	if !d.Deadline.IsZero() && (deadline.IsZero() || d.Deadline.Before(deadline)) {
		deadline = d.Deadline
	}
	if err := Socks4Handshake(c, addr, deadline); err != nil {
		c.Close()
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, errSocks4Timeout
		}
		return nil, err
	}
	return c, nil
}

// errSocks4Timeout is a check's SOCKS4 handshake that did not end in
// time: layer 4 is up once the request is sent, so HAProxy reports a
// layer 7 timeout.
var errSocks4Timeout = errors.New("socks4 handshake timeout")

// socks4Report is the report of a check whose SOCKS4 handshake failed:
// a socket error once the request is sent (HCHK_STATUS_SOCKERR), or a
// layer 7 timeout, where appended to its info.
func socks4Report(err error, where string) (string, bool) {
	if err == errSocks4Timeout {
		if where == "" {
			return "Layer7 timeout", true
		}
		return `Layer7 timeout, info: "` + where + `"`, true
	}
	var se Socks4Error
	if !errors.As(err, &se) {
		return "", false
	}
	return `Socket error, info: "` + string(se) + where + `"`, true
}

// setupConn prepares a check connection as tcpcheck_eval_connect does:
// a PROXY header with check-send-proxy on a default connection, or with
// the rule's send-proxy, then TLS (check-ssl) on a default connection.
// It returns the connection to use, or the failure's report.
func (s *Server) setupConn(ctx context.Context, conn net.Conn, dflt, sendProxy bool, timeout time.Duration) (net.Conn, string) {
	if f := s.Check.Preamble; f != nil && (sendProxy || dflt && s.Check.SendProxy) {
		local, _ := netip.ParseAddrPort(conn.LocalAddr().String())
		remote, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		conn.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := conn.Write(f(local, remote)); err != nil {
			return nil, `Layer4 connection problem, info: "Connection reset by peer"`
		}
		conn.SetWriteDeadline(time.Time{})
	}
	cfg := s.Check.TLS
	if cfg == nil || !dflt {
		return conn, ""
	}
	tc := tls.Client(conn, cfg)
	conn.SetDeadline(time.Now().Add(timeout))
	if err := s.handshake(ctx, tc); err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, "Layer6 timeout"
		}
		return nil, `Layer6 invalid response, info: "SSL handshake failure` + socketError(conn) + `"`
	}
	conn.SetDeadline(time.Time{})
	return tc, ""
}

// TLSCounter counts TLS connections: Open before the handshake, Close
// once the connection is done with, Handshake with its outcome.
type TLSCounter interface {
	Open()
	Close()
	Handshake(tc *tls.Conn, err error)
}

// handshake runs tc's handshake and counts it. The connection counts as
// open while the handshake runs: a check's connection lasts only as long
// as the check.
func (s *Server) handshake(ctx context.Context, tc *tls.Conn) error {
	cnt := s.Check.TLSCount
	if cnt == nil {
		return tc.HandshakeContext(ctx)
	}
	cnt.Open()
	defer cnt.Close()
	err := tc.HandshakeContext(ctx)
	cnt.Handshake(tc, err)
	return err
}

// stepTLS runs a tcp-check connect rule's TLS handshake with its own
// SNI and ALPN over the server's check settings; where is appended to a
// failure's info.
func (s *Server) stepTLS(ctx context.Context, conn net.Conn, st *TCPStep, timeout time.Duration, where string) (net.Conn, string) {
	cfg := &tls.Config{}
	switch {
	case s.Check.StepTLS != nil:
		cfg = s.Check.StepTLS.Clone()
	case s.Check.TLS != nil:
		cfg = s.Check.TLS.Clone()
	}
	if st.SNI != "" {
		cfg.ServerName = st.SNI
	}
	if len(st.ALPN) > 0 {
		cfg.NextProtos = st.ALPN
	}
	tc := tls.Client(conn, cfg)
	conn.SetDeadline(time.Now().Add(timeout))
	if err := s.handshake(ctx, tc); err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, `Layer6 timeout, info: "` + where[1:] + `"`
		}
		return nil, `Layer6 invalid response, info: "SSL handshake failure` + socketError(conn) + where + `"`
	}
	conn.SetDeadline(time.Time{})
	return tc, ""
}

// socketError is what HAProxy appends to a layer 6 failure from the
// socket's pending error (retrieve_errno_from_socket): " (strerror)".
func socketError(c net.Conn) string {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return ""
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return ""
	}
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); err == nil && v != 0 {
			errno = syscall.Errno(v)
			return
		}
		var b [1]byte
		if _, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT); err != nil && err != unix.EAGAIN {
			errno, _ = err.(syscall.Errno)
		}
	})
	if errno == 0 {
		return ""
	}
	return " (" + strerror(errno) + ")"
}

// strerror is the C library's text of errno.
func strerror(errno syscall.Errno) string {
	msg := errno.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// readErrno is the errno of a failed read other than the end of the
// stream and a timeout, 0 for those.
func readErrno(err error) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}

// closeCheckConn closes a check's connection. A clean close first reads
// away what the server sent and the check did not read, as HAProxy's
// conn_sock_drain does: unread data would turn the FIN into a reset.
func closeCheckConn(c net.Conn, clean bool) {
	if tc, ok := c.(*net.TCPConn); ok && clean {
		if rc, err := tc.SyscallConn(); err == nil {
			var b [4096]byte
			rc.Read(func(fd uintptr) bool {
				for i := 0; i < 16; i++ {
					n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_DONTWAIT)
					if n <= 0 || err != nil {
						break
					}
				}
				return true
			})
		}
	}
	c.Close()
}

func indexCRLF(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' && s[i+1] == '\n' {
			return i
		}
	}
	return -1
}

func reasonOf(statusLine string) string {
	if len(statusLine) > 4 {
		return statusLine[4:]
	}
	return ""
}

// withPort is addr on another port.
func withPort(addr, port string) string {
	host, _, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(host, port)
}
