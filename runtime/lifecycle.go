package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/backend"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/stats"
	"github.com/gohap/gohap/runtime/unixsock"
)

// Process life-cycle support: listening sockets shared between processes
// (SO_REUSEPORT, sockets handed down by a master), pausing listeners and
// handing the traffic over to a newer process.

// inherited maps bind addresses to descriptors a parent process passed
// down; Start adopts them instead of binding.
var inherited struct {
	sync.Mutex
	fds map[string]int
}

// InheritListeners names the listening sockets this process received:
// bind address (as compiled) to descriptor.
func InheritListeners(fds map[string]int) {
	inherited.Lock()
	inherited.fds = fds
	inherited.Unlock()
}

func takeInherited(addr string) (int, bool) {
	inherited.Lock()
	defer inherited.Unlock()
	fd, ok := inherited.fds[addr]
	if ok {
		delete(inherited.fds, addr)
	}
	return fd, ok
}

// listenBind opens a bind: the socket a parent passed down for addr, or
// a new one, with SO_REUSEPORT unless noReuse (noreuseport, -dR).
func listenBind(lc net.ListenConfig, b *Listen, noReuse bool, warn func(string)) (net.Listener, error) {
	network, addr := b.network(), b.Addr
	if fd, ok := takeInherited(addr); ok {
		return adoptListener(strconv.Itoa(fd))
	}
	lc.Control = bindSockopts(b, !noReuse, warn)
	// Plain TCP, as HAProxy 2.6 listens: Go would open Multipath TCP
	// sockets, whose connections from TCP clients still go through the
	// MPTCP layer on every call and refuse options such as TCP_QUICKACK.
	lc.SetMultipathTCP(false)
	if b.NetNS != nil {
		var ln net.Listener
		var err error
		if derr := b.NetNS.Do(func() { ln, err = lc.Listen(context.Background(), network, addr) }); derr != nil {
			return nil, derr
		}
		return ln, err
	}
	return lc.Listen(context.Background(), network, addr)
}

// NoReusePort makes Start bind without SO_REUSEPORT (global
// "noreuseport", -dR): a newer process cannot bind the same addresses
// while this one listens, and pauses it (SIGTTOU) to bind them.
func (e *Engine) NoReusePort() { e.noReuse = true }

// BoundSocket is a listening socket a master process holds for its
// workers.
type BoundSocket struct {
	Addr string
	File *os.File
}

// BindListeners opens every bind of g that is not an fd@ address and
// returns the sockets, reusing the ones in keep whose address is the
// same; noReuse leaves SO_REUSEPORT off. It fails with the alert Start
// gives.
func BindListeners(g *Graph, keep []BoundSocket, noReuse bool) ([]BoundSocket, error) {
	old := map[string]*os.File{}
	for _, b := range keep {
		old[b.Addr] = b.File
	}
	var out []BoundSocket
	fail := func(err error) ([]BoundSocket, error) {
		for _, b := range out {
			if old[b.Addr] != b.File {
				b.File.Close()
			}
		}
		return nil, err
	}
	for _, fe := range g.Frontends {
		for _, b := range fe.Binds {
			if strings.HasPrefix(b.Addr, "fd@") {
				continue
			}
			if f := old[b.Addr]; f != nil {
				out = append(out, BoundSocket{Addr: b.Addr, File: f})
				continue
			}
			var ln net.Listener
			var err error
			if b.Unix != nil {
				ln, err = listenUnixBind(&b)
			} else {
				ln, err = listenBind(net.ListenConfig{}, &b, noReuse, nil)
			}
			if err != nil {
				return fail(listenAlert(fe.Name, &b, err))
			}
			f, err := SocketFile(ln.(sockListener))
			ln.Close()
			if err != nil {
				return fail(err)
			}
			out = append(out, BoundSocket{Addr: b.Addr, File: f})
		}
	}
	return out, nil
}

// SocketFile duplicates a socket's descriptor into a File whose Fd,
// which exec.Cmd calls to pass it on, leaves the socket non-blocking.
// net's File would make it blocking, and the mode is the open socket's,
// shared by every process holding it: their accept would block in the
// kernel, and the close of a soft stop wait for a connection to come.
func SocketFile(c syscall.Conn) (*os.File, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	cerr := rc.Control(func(fd uintptr) {
		nfd, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	// A non-blocking descriptor stays so through NewFile's File.
	return os.NewFile(uintptr(nfd), "socket"), nil
}

// listenAlert is HAProxy's alert for a bind that could not be opened.
func listenAlert(fe string, b *Listen, err error) error {
	var bf *bindFailure
	if errors.As(err, &bf) {
		return fmt.Errorf("Binding [%s:%d] for frontend %s: %w", b.Pos.File, b.Pos.Line, fe, bf)
	}
	reason := "cannot bind socket (" + unixsock.ErrText(err) + ")"
	if errors.Is(err, errTransparent) {
		reason = "cannot make receiving socket transparent"
	}
	return fmt.Errorf("Binding [%s:%d] for frontend %s: %s for [%s]", b.Pos.File, b.Pos.Line, fe, reason, bindAddrText(b, err))
}

// bindWarning is HAProxy's warning for a bind option that failed while
// the socket was bound anyway.
func bindWarning(fe string, b *Listen, msg string) string {
	return fmt.Sprintf("Binding [%s:%d] for frontend %s: %s for [%s]", b.Pos.File, b.Pos.Line, fe, msg, bindAddrText(b, nil))
}

// bindAddrText is the address a bind alert names, as HAProxy prints it
// (addr_to_str and the port, a wildcard as 0.0.0.0 or ::).
func bindAddrText(b *Listen, err error) string {
	var ap netip.AddrPort
	var oe *net.OpError
	if errors.As(err, &oe) {
		if a, ok := oe.Addr.(*net.TCPAddr); ok {
			ap = a.AddrPort()
		}
	}
	if !ap.IsValid() {
		if a, aerr := net.ResolveTCPAddr(b.network(), strings.TrimPrefix(strings.TrimPrefix(b.Addr, "ipv4@"), "ipv6@")); aerr == nil {
			ap = a.AddrPort()
		}
	}
	ip := ap.Addr().Unmap()
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
		if b.Family == "6" {
			ip = netip.IPv6Unspecified()
		}
	}
	return ip.String() + ":" + strconv.Itoa(int(ap.Port()))
}

// errTransparent is a "transparent" bind whose socket refused it.
var errTransparent = errors.New("cannot make receiving socket transparent")

// bindSockopts sets a TCP bind's socket options before it is bound, as
// HAProxy's sock_inet_bind_receiver and tcp_bind_listener do: SO_REUSEPORT
// (unless reuse is off), IP(V6)_TRANSPARENT or IP_FREEBIND, the device,
// IPV6_V6ONLY, the MSS and TCP_DEFER_ACCEPT. A device that cannot be
// used is a warning, as in HAProxy.
func bindSockopts(b *Listen, reuse bool, warn func(string)) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(ufd uintptr) {
			fd := int(ufd)
			if reuse {
				if serr = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
					return
				}
			}
			v6 := strings.HasSuffix(network, "6")
			if b.Transparent {
				ok := false
				if v6 {
					ok = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TRANSPARENT, 1) == nil
				} else {
					ok = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TRANSPARENT, 1) == nil
				}
				if !ok && unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_FREEBIND, 1) != nil {
					serr = errTransparent
					return
				}
			}
			if b.Interface != "" {
				if err := unix.BindToDevice(fd, b.Interface); err != nil && warn != nil {
					warn(fmt.Sprintf("cannot bind receiver to device '%s' (%s)", b.Interface, unixsock.ErrText(err)))
				}
			}
			if v6 && b.V6Only {
				unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
			}
			if b.MSS > 0 {
				unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_MAXSEG, b.MSS)
			}
			// Accepted sockets inherit it: the accept loop then sets
			// it on none (rawAcceptor). Set before listen, it reaches
			// every connection the socket ever queues.
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			// HAProxy sets them on each accepted socket; a TCP socket
			// accepted inherits the listening socket's.
			if b.RcvBuf != 0 {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, b.RcvBuf)
			}
			if b.SndBuf != 0 {
				unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, b.SndBuf)
			}
			if b.DeferAccept {
				// Accepted once data came, waiting up to a second.
				unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// listenerMaxconn is how many connections a listener holds at once: its
// bind's maxconn, within the frontend's; 0 for no limit.
func listenerMaxconn(fe *Frontend, b *Listen) int {
	switch {
	case b.Maxconn > 0 && fe.Maxconn > 0:
		return min(b.Maxconn, fe.Maxconn)
	case b.Maxconn > 0:
		return b.Maxconn
	}
	return fe.Maxconn
}

// listenerFDs runs f on each listening socket's descriptor with its
// bind: Start opens one listener per bind, in order.
func (e *Engine) listenerFDs(f func(b Listen, fd int)) {
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	var binds []Listen
	for _, fe := range e.g.Frontends {
		binds = append(binds, fe.Binds...)
	}
	for i, l := range lns {
		rc, err := l.ln.SyscallConn()
		if err != nil || i >= len(binds) {
			continue
		}
		rc.Control(func(fd uintptr) { f(binds[i], int(fd)) })
	}
}

// Pause stops accepting and keeps the sockets (SIGTTOU): as HAProxy does
// on Linux, shutting the reading side makes the kernel stop listening,
// so that new connections go to another process bound to the address.
// Unix sockets are left as they are, except abstract ones, which are
// closed so that the other process can bind their names
// (uxst_suspend_receiver).
func (e *Engine) Pause() {
	e.mu.Lock()
	for _, l := range e.listeners {
		if u := l.bind.Unix; u != nil && u.abstract && !l.released {
			l.released = true
			l.closeLn()
		}
	}
	e.mu.Unlock()
	e.listenerFDs(func(b Listen, fd int) {
		if b.Unix == nil {
			unix.Shutdown(fd, unix.SHUT_RD)
		}
	})
	if cli := e.runningCLI(); cli != nil {
		cli.Pause()
	}
	if e.peers != nil {
		for _, sec := range e.peers.secs {
			sec.Pause()
		}
	}
}

// Resume listens again on paused sockets (SIGTTIN), and binds again the
// abstract names Pause let go of.
func (e *Engine) Resume() {
	e.mu.Lock()
	var lns []*listener
	for i, l := range e.listeners {
		if !l.released || e.stopping.Load() {
			continue
		}
		u := l.bind.Unix
		ln, err := unixsock.Listen(u.path, true, u.perms)
		if err != nil {
			e.log.Warn("cannot bind again", zap.String("frontend", l.fe.Name), zap.Error(err))
			continue
		}
		if lns == nil {
			// Others may be reading the slice they took.
			lns = append([]*listener(nil), e.listeners...)
		}
		// A new listener: the accept loop of the closed one may still
		// be on its way out.
		nl := *l
		nl.ln, nl.released, nl.acc = ln.(sockListener), false, new(acceptWait)
		lns[i] = &nl
		e.wg.Add(1)
		go e.acceptLoop(&nl)
	}
	if lns != nil {
		e.listeners = lns
	}
	e.mu.Unlock()
	e.listenerFDs(func(b Listen, fd int) {
		if b.Unix != nil {
			return
		}
		backlog := b.Backlog
		if backlog <= 0 {
			backlog = unix.SOMAXCONN
		}
		unix.Listen(fd, backlog)
	})
	if cli := e.runningCLI(); cli != nil && !e.stopping.Load() {
		cli.Resume()
	}
	if e.peers != nil && !e.stopping.Load() {
		for _, sec := range e.peers.secs {
			sec.Resume()
		}
	}
}

// handoverDrain is how long a process keeps accepting once it has
// steered new connections to the newer process: the handshakes already
// on their way to its queue complete well within it.
const handoverDrain = 50 * time.Millisecond

// Handover runs before a soft stop: it asks the kernel to send the
// connections of each listening socket's SO_REUSEPORT group to its
// second member, the newer process (a classic BPF program returning 1;
// with a single member the kernel falls back to its hash), then accepts
// what is already queued before it closes the sockets. Connections
// queued on a socket closed by its last holder would be reset.
func (e *Engine) Handover() {
	steered := false
	prog := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 1}}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	e.listenerFDs(func(_ Listen, fd int) {
		if n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT); err != nil || n == 0 {
			return
		}
		if unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog) == nil {
			steered = true
		}
	})
	if steered {
		time.Sleep(handoverDrain)
	}
	// Closing the sockets before the soft stop lets the accept loops end
	// on their own: a connection accepted just before still gets its
	// session, where the soft stop would close it unserved.
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	for _, l := range lns {
		l.closeLn()
	}
	time.Sleep(acceptSettle)
}

// acceptSettle lets an accept that returned register its session.
const acceptSettle = 10 * time.Millisecond

// stopIdleGrace is how long an idle keep-alive connection stays open
// once a soft stop began, at most: a request the client sends meanwhile
// is answered with "Connection: close", so the connection ends with its
// next exchange. Closing it sooner races with a request on its way,
// which is then lost; a client busy elsewhere, or starved of CPU, may
// take a while to send it.
const stopIdleGrace = 5 * time.Second

// stopDeadline bounds an idle connection's read deadline t (zero when
// none) during a soft stop.
func stopDeadline(t time.Time) time.Time {
	g := time.Now().Add(stopIdleGrace)
	if t.IsZero() || g.Before(t) {
		return g
	}
	return t
}

// The proxies as HAProxy's signal handlers see them: its proxies_list,
// with the stats sockets' GLOBAL proxy among them, and the order in
// which it pauses and stops their listeners.

// globalProxy is the name of the stats sockets' proxy.
const globalProxy = "GLOBAL"

// procProxy is one proxy of the process: a frontend, a backend, both
// (a listen section), GLOBAL, a disabled one (off), or the frontend of
// a peers section's local peer (peers, the section's name), which only
// pausing and resuming report: it is no member of proxies_list.
type procProxy struct {
	proxyRef
	global bool
	off    *offProxy
	peers  string
}

// offProxy is a disabled proxy, which HAProxy never starts but still
// dumps on SIGHUP as its configuration left it: its servers in reverse
// order (HAProxy's parser prepends them, and only started proxies have
// the list turned round), up unless "disabled", all counted available.
type offProxy struct {
	servers []offServer
}

type offServer struct {
	name             string
	backup, disabled bool
}

// MasterSocket names the stats socket at addr as a worker's end of the
// master CLI: it belongs to GLOBAL, after the other listeners, and a
// soft stop leaves it open (HAProxy's LI_O_NOSTOP), so that GLOBAL is
// never reported stopped.
func (e *Engine) MasterSocket(addr string) { e.masterSock = addr }

// procProxies lists the proxies in HAProxy's proxies_list order: the
// configuration's, refs being the started ones in order, with GLOBAL
// where the first "stats" line is, or last when only a stats socket
// added for a worker's master CLI makes it.
func procProxies(cfg *parser.Config, refs []proxyRef) []procProxy {
	st := cfg.Global.Stats
	global := procProxy{proxyRef: proxyRef{name: globalProxy}, global: true}
	var out []procProxy
	peersLns := peersListeners(cfg)
	for i, p := range cfg.Proxies {
		if st.Declared && i == st.ProxiesBefore {
			out = append(out, global)
		}
		// A peers section's listener comes where its line is read.
		for len(peersLns) > 0 && peersLns[0].before(p.Pos) {
			out = append(out, peersLns[0].px)
			peersLns = peersLns[1:]
		}
		if !p.Disabled {
			if len(refs) > 0 {
				out = append(out, procProxy{proxyRef: refs[0]})
				refs = refs[1:]
			}
			continue
		}
		off := &offProxy{}
		if p.Cap&parser.CapBE != 0 {
			for j := len(p.Servers) - 1; j >= 0; j-- {
				s := p.Servers[j]
				off.servers = append(off.servers, offServer{name: s.Name, backup: s.Settings.Backup, disabled: s.Settings.Disabled})
			}
		}
		out = append(out, procProxy{proxyRef: proxyRef{name: p.Name}, off: off})
	}
	if st.Declared && st.ProxiesBefore >= len(cfg.Proxies) || !st.Declared && len(st.Sockets) > 0 {
		out = append(out, global)
	}
	for _, l := range peersLns {
		out = append(out, l.px)
	}
	return out
}

// peersListener is the frontend of a peers section that listens;
// before tells whether the line that opens its listener comes before a
// position.
type peersListener struct {
	px     procProxy
	before func(parser.Pos) bool
}

// peersListeners lists the listening peers sections in source order:
// as compilePeers runs them, the enabled ones with their local peer and
// an address. Their frontend is named after the local peer.
func peersListeners(cfg *parser.Config) []peersListener {
	files := map[string]int{}
	for _, d := range cfg.Directives {
		if _, ok := files[d.Pos.File]; !ok {
			files[d.Pos.File] = len(files)
		}
	}
	var out []peersListener
	for _, ps := range cfg.Peers {
		if !peersActive(ps) {
			continue
		}
		local := ps.LocalPeerLine()
		pos := local.Pos
		if ps.Bind != nil {
			pos = ps.Bind.Pos
		} else if local.Addr == "" {
			continue
		}
		out = append(out, peersListener{px: procProxy{proxyRef: proxyRef{name: local.Name}, peers: ps.Name},
			before: func(p parser.Pos) bool {
				if f, g := files[pos.File], files[p.File]; f != g {
					return f < g
				}
				return pos.Line < p.Line
			}})
	}
	return out
}

// peersProto is the protocol list of a running peers section's
// listener, "" when it has none.
func (e *Engine) peersProto(name string) string {
	if e.peers == nil {
		return ""
	}
	for i, ps := range e.g.peers {
		if ps.name != name || i >= len(e.peers.secs) {
			continue
		}
		live := e.peers.secs[i].Addr()
		if live == nil {
			return ""
		}
		if strings.HasPrefix(ps.cfg.Bind, "fd@") {
			if a, ok := live.(*net.TCPAddr); ok && a.IP.To4() == nil {
				return "6"
			}
			return "4"
		}
		return hostProto(ps.cfg.Bind)
	}
	return ""
}

// protoOrder is the order of the protocol lists HAProxy walks when it
// pauses or stops every listener: TCPv6, TCPv4, unix sockets, then the
// master's socketpair.
var protoOrder = []string{"6", "4", "unix", "pair"}

// protoList is the protocol list a bind's listener is on: "6", "4" or
// "unix". An address without a host is IPv4's, as in HAProxy.
func (b *Listen) protoList() string {
	switch {
	case b.Unix != nil:
		return "unix"
	case b.Family != "":
		return b.Family
	}
	return hostProto(b.Addr)
}

func hostProto(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		return "6"
	}
	return "4"
}

// socketProto is the protocol list of the stats socket at addr; live is
// its listening address, which tells what an inherited fd@ one is.
func socketProto(addr string, live net.Addr) string {
	pfx, rest, found := strings.Cut(addr, "@")
	if !found {
		if strings.HasPrefix(addr, "/") || !strings.Contains(addr, ":") {
			return "unix"
		}
		pfx, rest = "", addr
	}
	switch pfx {
	case "unix", "abns":
		return "unix"
	case "ipv4":
		return "4"
	case "ipv6":
		return "6"
	case "fd":
		switch a := live.(type) {
		case *net.UnixAddr:
			return "unix"
		case *net.TCPAddr:
			if a.IP.To4() == nil {
				return "6"
			}
		}
		return "4"
	}
	return hostProto(rest)
}

// cliSockets returns the protocol lists of the stats sockets, in order,
// the master's apart.
func (e *Engine) cliSockets() (protos []string, master bool) {
	c := e.g.cli
	if c == nil {
		return nil, false
	}
	cli := e.runningCLI()
	var live []net.Addr
	if cli != nil {
		live = cli.Addrs()
	}
	for i, sk := range c.sockets {
		if e.masterSock != "" && sk.Addr == e.masterSock {
			master = true
			continue
		}
		var a net.Addr
		if i < len(live) {
			a = live[i]
		}
		protos = append(protos, socketProto(sk.Addr, a))
	}
	return protos, master
}

// runningCLI is the CLI on the stats sockets, nil when none runs.
func (e *Engine) runningCLI() *stats.CLI {
	c := e.g.cli
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cli
}

// cliConns returns GLOBAL's connections now and since the start, as a
// frontend and as a backend (stats.CLI.Conns).
func (e *Engine) cliConns() (feCur, feTotal, beCur, beTotal int64) {
	if cli := e.runningCLI(); cli != nil {
		return cli.Conns()
	}
	return 0, 0, 0, 0
}

// stopCLIListeners closes the stats sockets but the master's, and lets
// their connections finish, as a soft stop does.
func (e *Engine) stopCLIListeners() {
	if cli := e.runningCLI(); cli != nil {
		cli.StopListening(func(addr string) bool { return e.masterSock != "" && addr == e.masterSock })
	}
}

// listenerOrder returns the proxies of list with listeners, by index,
// in the order HAProxy pauses or stops them: it walks each protocol's
// listeners in configuration order, and a proxy is done with its last
// listener. When stopping, the master's socket is never done, nor is
// GLOBAL with it. listening marks the proxies with listeners.
func (e *Engine) listenerOrder(list []procProxy, stopping bool) (order []int, listening map[int]bool) {
	type lis struct {
		px    int
		proto string
	}
	var all []lis
	left := map[int]int{}
	for i, p := range list {
		switch {
		case p.global:
			protos, master := e.cliSockets()
			for _, pr := range protos {
				all = append(all, lis{i, pr})
			}
			if master && stopping {
				left[i]++
			} else if master {
				all = append(all, lis{i, "pair"})
			}
		case p.fe != nil:
			for j := range p.fe.Binds {
				all = append(all, lis{i, p.fe.Binds[j].protoList()})
			}
		case p.peers != "" && !stopping:
			if pr := e.peersProto(p.peers); pr != "" {
				all = append(all, lis{i, pr})
			}
		}
	}
	listening = map[int]bool{}
	for i := range left {
		listening[i] = true
	}
	for _, l := range all {
		left[l.px]++
		listening[l.px] = true
	}
	for _, pr := range protoOrder {
		for _, l := range all {
			if l.proto != pr {
				continue
			}
			if left[l.px]--; left[l.px] == 0 {
				order = append(order, l.px)
			}
		}
	}
	return order, listening
}

// ListenerProxies names the proxies with listeners as HAProxy's "Paused"
// and "Resumed" lines do (proxy_cap_str: a listen section is a "proxy",
// GLOBAL a "frontend"), in the order it pauses their listeners.
func (e *Engine) ListenerProxies() []string {
	list := e.g.procList
	order, _ := e.listenerOrder(list, false)
	out := make([]string, 0, len(order))
	for _, i := range order {
		p := list[i]
		word := "frontend"
		if p.fe != nil && p.be != nil || p.peers != "" {
			word = "proxy"
		}
		out = append(out, word+" "+p.name)
	}
	return out
}

// logStopped reports each proxy stopped, in HAProxy's soft-stop order:
// the ones with listeners as their last listener stops, then the others
// in proxies_list order (stop_proxy from their tasks).
func (e *Engine) logStopped() {
	list := e.g.procList
	order, listening := e.listenerOrder(list, true)
	for i, p := range list {
		// A disabled proxy never started, so never stops; a peers
		// section's frontend stops silently.
		if !listening[i] && p.off == nil && p.peers == "" {
			order = append(order, i)
		}
	}
	for _, i := range order {
		p := list[i]
		var fe, be int64
		switch {
		case p.global:
			_, fe, _, be = e.cliConns()
		default:
			if p.fe != nil {
				fe = p.fe.accepted.Load()
			}
			if p.be != nil {
				be = p.be.streams.Load()
			}
		}
		e.log.Warn(fmt.Sprintf("Proxy %s stopped (cumulated conns: FE: %d, BE: %d).", p.name, fe, be))
	}
}

// HardStop is Stop when hard-stop-after expires, first with HAProxy's
// warning for each frontend that still has connections (hard_stop).
func (e *Engine) HardStop() {
	for _, p := range e.g.procList {
		var n int64
		switch {
		case p.peers != "":
			continue
		case p.global:
			n, _, _, _ = e.cliConns()
		case p.fe != nil:
			n = p.fe.conns.Load()
		}
		if n > 0 {
			e.log.Warn(fmt.Sprintf("Proxy %s hard-stopped (%d remaining conns will be closed).", p.name, n))
		}
	}
	e.Stop()
}

// ProxyState is one proxy in HAProxy's SIGHUP dump (sig_dump_state).
// A frontend and GLOBAL have no servers.
type ProxyState struct {
	Name    string
	Servers []ServerState
	// Act and Bck count the active and backup servers that take
	// traffic (srv_act, srv_bck).
	Act, Bck int
	// FeConn counts the connections served as a frontend and BeConn the
	// streams as a backend, FeTotal and BeTotal those since the start.
	FeConn, BeConn   int64
	FeTotal, BeTotal int64
	// Pend counts the requests waiting, Unassigned those waiting for
	// any server.
	Pend, Unassigned int
}

// ServerState is a server in the SIGHUP dump: Up unless stopped (down
// or in maintenance), its sessions, queue and total (stot).
type ServerState struct {
	Name       string
	Up         bool
	Cur, Queue int
	Total      int64
}

// States returns every proxy's state for the SIGHUP dump, in
// proxies_list order, from the counters "show stat" reads.
func (e *Engine) States() []ProxyState {
	var out []ProxyState
	for _, p := range e.g.procList {
		if p.peers != "" {
			// Not in proxies_list: SIGHUP does not dump it.
			continue
		}
		ps := ProxyState{Name: p.name}
		switch {
		case p.global:
			ps.FeConn, ps.FeTotal, ps.BeConn, ps.BeTotal = e.cliConns()
			out = append(out, ps)
			continue
		case p.off != nil:
			for _, s := range p.off.servers {
				ps.Servers = append(ps.Servers, ServerState{Name: s.name, Up: !s.disabled})
				if s.backup {
					ps.Bck++
				} else {
					ps.Act++
				}
			}
			out = append(out, ps)
			continue
		}
		if fe := p.fe; fe != nil {
			ps.FeConn, ps.FeTotal = fe.conns.Load(), fe.accepted.Load()
		}
		if be := p.be; be != nil {
			ps.BeConn, ps.BeTotal = be.conns.Load(), be.streams.Load()
			ps.Pend, ps.Unassigned = be.LB.QueueLen(), be.LB.QueueLen()
			for _, s := range be.LB.ServerList() {
				st := s.State()
				ss := ServerState{Name: s.Name, Up: st != backend.Down && st != backend.Maint,
					Cur: s.Sessions(), Queue: s.QueueLen(), Total: s.Total()}
				ps.Unassigned -= ss.Queue
				if st == backend.Up && s.CurWeight() > 0 && !s.Drained() {
					if s.Backup {
						ps.Bck++
					} else {
						ps.Act++
					}
				}
				ps.Servers = append(ps.Servers, ss)
			}
			ps.Unassigned = max(ps.Unassigned, 0)
		}
		out = append(out, ps)
	}
	return out
}
