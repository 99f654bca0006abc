// Package peers runs HAProxy 2.6's peers protocol: the sessions of a
// "peers" section with the other nodes, which push the local changes of
// the shared stick tables and apply the peers' ones (configuration.txt
// 3.5, doc/peers-v2.0.txt, src/peers.c).
package peers

import (
	"bufio"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gohap/gohap/acl/stick"
)

// Timers of src/peers.c.
const (
	resyncTimeout    = 5 * time.Second // PEER_RESYNC_TIMEOUT
	reconnectTimeout = 5 * time.Second // PEER_RECONNECT_TIMEOUT
	heartbeatTimeout = 3 * time.Second // PEER_HEARTBEAT_TIMEOUT
	// connectTimeout is the peers proxy's "timeout connect".
	connectTimeout = time.Second
	// handshakeTimeout is the peers proxy's "timeout client".
	handshakeTimeout = 5 * time.Second
	// writeTimeout bounds a write to a peer that stopped reading.
	writeTimeout = 10 * time.Second
)

// PeerConfig is a "peer" (or "server") line.
type PeerConfig struct {
	Name string
	// Addr is "host:port"; empty for a local peer declared by "server"
	// after a "bind" line.
	Addr string
	// Local is the peer this process is.
	Local bool
	// TLS, when set, encrypts the connections to the peer.
	TLS *tls.Config
}

// TableConfig is a table shared by the section: Name is its network name
// (the proxy name, or the name of the peers section's "table" line).
type TableConfig struct {
	Name  string
	Table *stick.Table
}

// Config is a peers section.
type Config struct {
	Name string
	// LocalName is the local peer's name (localpeer, -L, the host name).
	LocalName string
	// Bind is the local peer's listening address.
	Bind   string
	Peers  []PeerConfig
	Tables []TableConfig
	// Listener, when set, is used instead of listening on Bind.
	Listener net.Listener
	// TLS, when set, is the listener's TLS configuration.
	TLS *tls.Config
	// Logf reports events; nil discards them.
	Logf func(format string, a ...any)
	// WaitLocal says a former process will hand its tables over through
	// the local peer: the resync waits for it before asking remote peers.
	WaitLocal bool
}

// Resync state of a section (PEERS_F_RESYNC_*).
const (
	resyncLocal = 1 << iota
	resyncRemote
	resyncAssign
	resyncProcess
)

// Peer flags (PEER_F_*).
const (
	fTeachProcess = 1 << iota
	fTeachFinished
	fLearnAssign
	fLearnNotUp2Date
	fAlive
	fHeartbeat
	fDowngrade
)

// Section runs a peers section.
type Section struct {
	cfg    Config
	ln     net.Listener
	mu     sync.Mutex
	peers  []*peer
	flags  int
	resync time.Time // resync_timeout
	wake   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	pid    int
	closed bool
	// stopping is set by HandOver: no more remote sessions.
	stopping bool
	// taught is closed when the local peer confirmed a hand-over.
	taught     chan struct{}
	taughtOnce sync.Once
}

// peer is a remote node (struct peer).
type peer struct {
	sec   *Section
	name  string
	addr  string
	local bool
	tls   *tls.Config
	sess  *session
	// status is the last handshake status code, 0 before any.
	status    int
	flags     int
	reconnect time.Time
	heartbeat time.Time // zero is never
	confirm   int
	tables    []*shared
	// lastLocal is the table the last define message announced.
	lastLocal *shared
	// remote is the peer's table the last define or switch chose.
	remote *shared
}

// shared is a table's state toward one peer (struct shared_table).
type shared struct {
	name    string
	table   *stick.Table
	localID uint64
	// remoteID and def are the peer's definition of the table.
	remoteID uint64
	def      TableDef
	// lastGet is the last update received, lastAcked the last acked;
	// update the last the peer acked of ours, lastPushed the last sent.
	lastGet, lastAcked, update, lastPushed, teachOrigin uint32
	taught                                              bool
}

// New prepares a section; Start runs it.
func New(cfg Config) *Section {
	s := &Section{cfg: cfg, wake: make(chan struct{}, 1), done: make(chan struct{}), pid: os.Getpid(), taught: make(chan struct{})}
	for _, pc := range cfg.Peers {
		p := &peer{sec: s, name: pc.Name, addr: pc.Addr, local: pc.Local, tls: pc.TLS}
		for i, tc := range cfg.Tables {
			p.tables = append(p.tables, &shared{name: tc.Name, table: tc.Table, localID: uint64(i + 1)})
		}
		s.peers = append(s.peers, p)
	}
	for _, tc := range cfg.Tables {
		tc.Table.Share(s.kick)
	}
	return s
}

func (s *Section) logf(format string, a ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, a...)
	}
}

// kick wakes the sync task after a local change.
func (s *Section) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Listen opens the local peer's listening socket.
func (s *Section) Listen() error {
	if s.cfg.Listener != nil {
		s.ln = s.cfg.Listener
		return nil
	}
	if s.cfg.Bind == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Bind)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr returns the listening address, nil when none.
func (s *Section) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Resynced reports whether the section has learned its tables since it
// started: from a former process, from a remote peer, or by waiting out
// the resync timeout.
func (s *Section) Resynced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flags&(resyncLocal|resyncRemote) == resyncLocal|resyncRemote
}

// Start runs the accept loop and the sync task; Listen must have been
// called.
func (s *Section) Start() {
	if s.ln != nil {
		s.wg.Add(1)
		go s.acceptLoop()
	}
	s.wg.Add(1)
	go s.syncTask()
}

// Pause makes the kernel stop listening on the local peer's socket
// while it stays open (SIGTTOU), as HAProxy's tcp_suspend_receiver: new
// peer connections are refused, or go to another process bound to the
// address. The sessions go on. It reports whether a listener paused.
func (s *Section) Pause() bool {
	return s.onListener(func(fd int) { syscall.Shutdown(fd, syscall.SHUT_RD) })
}

// Resume listens again on a paused socket (SIGTTIN).
func (s *Section) Resume() bool {
	return s.onListener(func(fd int) { syscall.Listen(fd, syscall.SOMAXCONN) })
}

// onListener runs f on the listening socket's descriptor; false when
// there is none, or it is closed.
func (s *Section) onListener(f func(fd int)) bool {
	sc, ok := s.ln.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { f(int(fd)) }) == nil
}

// Stop closes the listener and every session and waits for them.
func (s *Section) Stop() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	for _, p := range s.peers {
		if p.sess != nil {
			p.sess.shutdown()
		}
	}
	s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.wg.Wait()
}

func (s *Section) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go s.accept(c)
	}
}

// syncTask is process_peer_sync: it connects to the remote peers,
// schedules heartbeats, kills silent sessions and tracks the resync.
func (s *Section) syncTask() {
	defer s.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-timer.C:
		case <-s.wake:
		}
		next := s.syncOnce(time.Now())
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if next.IsZero() {
			next = time.Now().Add(time.Second)
		}
		timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// syncOnce runs the sync task once and returns when to run it again.
func (s *Section) syncOnce(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return time.Time{}
	}
	var next time.Time
	first := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	expired := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	if s.resync.IsZero() {
		s.resync = now.Add(resyncTimeout)
	}
	if s.stopping {
		return time.Time{}
	}
	if s.flags&(resyncLocal|resyncRemote) == 0 && s.flags&resyncAssign == 0 && (!s.cfg.WaitLocal || expired(s.resync)) {
		// no old process to learn from, or it did not teach in time:
		// learn from the remote peers
		s.flags |= resyncLocal
		s.resync = now.Add(resyncTimeout)
	}
	for _, p := range s.peers {
		if p.local || p.addr == "" && p.sess == nil {
			continue
		}
		if p.sess == nil {
			switch {
			case p.status == 0 || (p.status == statusConnect || p.status == statusSuccess || p.status == statusConnected) && expired(p.reconnect):
				s.connect(p, now)
			case !expired(p.reconnect):
				first(p.reconnect)
			}
			continue
		}
		if p.status != statusSuccess {
			continue
		}
		if s.flags&(resyncLocal|resyncRemote) == resyncLocal && s.flags&resyncAssign == 0 && p.flags&fLearnNotUp2Date == 0 {
			p.flags |= fLearnAssign
			s.flags |= resyncAssign
			p.sess.poke()
			continue
		}
		pending := false
		for _, st := range p.tables {
			if st.lastPushed != st.table.LocalUpdate() {
				pending = true
				break
			}
		}
		if pending {
			p.flags &^= fHeartbeat
			p.heartbeat = now.Add(heartbeatTimeout)
			first(p.reconnect)
			first(p.heartbeat)
			p.sess.poke()
			continue
		}
		switch {
		case expired(p.reconnect):
			if p.flags&fAlive != 0 {
				p.flags &^= fAlive
				p.reconnect = now.Add(reconnectTimeout)
			} else {
				p.reconnect = now.Add(collisionDelay())
				p.heartbeat = time.Time{}
				s.logf("peer %s/%s: no message received, closing", s.cfg.Name, p.name)
				p.shutdown()
			}
		case expired(p.heartbeat):
			p.heartbeat = now.Add(heartbeatTimeout)
			p.flags |= fHeartbeat
			p.sess.poke()
		}
		first(p.reconnect)
		first(p.heartbeat)
	}
	if s.flags&(resyncLocal|resyncRemote) == resyncLocal && s.flags&resyncAssign == 0 && expired(s.resync) {
		// nobody taught us in time: consider the resync done
		s.flags |= resyncRemote
	}
	if s.flags&(resyncLocal|resyncRemote) != resyncLocal|resyncRemote && !expired(s.resync) {
		first(s.resync)
	}
	return next
}

// collisionDelay is the random delay before reconnecting after a
// session was killed, so that both ends do not retry together.
func collisionDelay() time.Duration {
	return time.Duration(50+rand.IntN(2000)) * time.Millisecond
}

// shutdown ends p's session (peer_session_forceshutdown and
// __peer_session_deinit); p's section lock is held.
func (p *peer) shutdown() {
	if p.sess == nil {
		return
	}
	p.sess.shutdown()
	p.deinit()
}

// deinit detaches p's session; the section lock is held.
func (p *peer) deinit() {
	p.sess = nil
	p.remote, p.lastLocal = nil, nil
	if p.flags&fLearnAssign != 0 {
		p.sec.flags &^= resyncAssign | resyncProcess
		p.sec.resync = time.Now().Add(resyncTimeout)
	}
	p.flags &^= fTeachProcess | fTeachFinished | fLearnAssign | fLearnNotUp2Date
	p.sec.kick()
}

// connect starts an outgoing session (peer_session_create); the section
// lock is held.
func (s *Section) connect(p *peer, now time.Time) {
	p.reconnect = now.Add(reconnectTimeout)
	p.heartbeat = time.Time{}
	p.status = statusConnect
	ss := newSession(s, p)
	p.sess = ss
	s.wg.Add(1)
	go ss.dial()
}

// initCursors resets the tables' cursors of a new session; the section
// lock is held.
func (p *peer) initCursors() {
	for _, st := range p.tables {
		st.lastGet, st.lastAcked = 0, 0
		local := st.table.LocalUpdate()
		if int32(local-st.update) < 0 {
			st.update = local + 1<<31
		}
		st.teachOrigin, st.lastPushed = st.update, st.update
		st.taught = false
	}
	p.confirm = 0
	p.flags &^= fTeachProcess | fTeachFinished | fLearnAssign | fLearnNotUp2Date
}

// initAccepted is init_accepted_peer.
func (p *peer) initAccepted(now time.Time) {
	s := p.sec
	p.heartbeat = now.Add(heartbeatTimeout)
	p.status = statusSuccess
	s.kick()
	p.initCursors()
	if p.local {
		// a former process teaches without being asked
		if s.flags&(resyncLocal|resyncRemote) == 0 && s.flags&resyncAssign == 0 {
			p.flags |= fLearnAssign
			s.flags |= resyncAssign | resyncProcess
		}
		return
	}
	if s.flags&(resyncLocal|resyncRemote) == resyncLocal && s.flags&resyncAssign == 0 {
		p.flags |= fLearnAssign
		s.flags |= resyncAssign
	}
}

// initConnected is init_connected_peer.
func (p *peer) initConnected(now time.Time) {
	s := p.sec
	p.heartbeat = now.Add(heartbeatTimeout)
	p.initCursors()
	if p.local {
		p.flags |= fTeachProcess
		return
	}
	if s.flags&(resyncLocal|resyncRemote) == resyncLocal && s.flags&resyncAssign == 0 {
		p.flags |= fLearnAssign
		s.flags |= resyncAssign
	}
}

// HandOver closes the remote sessions and the listener, then teaches the
// tables to the process now listening on the local peer's address, as a
// stopping HAProxy does. It returns once that process confirmed, could
// not be reached, or timeout passed; Stop ends the section.
func (s *Section) HandOver(timeout time.Duration) {
	s.mu.Lock()
	if s.closed || s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	var local *peer
	for _, p := range s.peers {
		if p.local {
			local = p
		} else {
			p.shutdown()
		}
	}
	if local == nil || local.addr == "" || len(local.tables) == 0 {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	// The connection must reach the new listener, not this one.
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Lock()
	local.shutdown()
	s.connect(local, time.Now())
	ss := local.sess
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.taught:
	case <-ss.closed:
	case <-t.C:
	}
}

// accept serves an incoming connection: the handshake, then the session.
func (s *Section) accept(c net.Conn) {
	defer s.wg.Done()
	// Stop does not wait for a handshake to end.
	hs := make(chan struct{})
	defer close(hs)
	raw := c // c becomes the TLS layer below
	go func() {
		select {
		case <-s.done:
			raw.Close()
		case <-hs:
		}
	}()
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if s.cfg.TLS != nil {
		c = tls.Server(c, s.cfg.TLS)
	}
	r := bufio.NewReaderSize(c, maxMessage+16)
	fail := func(code int) {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte(strconv.Itoa(code) + "\n"))
		c.Close()
	}
	line, err := readLine(r)
	if err != nil {
		c.Close()
		return
	}
	_, minor, st := parseVersion(line)
	if st != 0 {
		fail(st)
		return
	}
	if line, err = readLine(r); err != nil {
		c.Close()
		return
	}
	if line != s.cfg.LocalName {
		fail(statusErrHost)
		return
	}
	if line, err = readLine(r); err != nil {
		c.Close()
		return
	}
	name, _, ok := strings.Cut(line, " ")
	if !ok {
		fail(statusErrProto)
		return
	}
	s.mu.Lock()
	var p *peer
	for _, x := range s.peers {
		if x.name == name {
			p = x
			break
		}
	}
	if s.closed || s.stopping {
		// not answering lets the peer try again, on the new process
		s.mu.Unlock()
		c.Close()
		return
	}
	if p == nil {
		s.mu.Unlock()
		fail(statusErrPeer)
		return
	}
	if p.sess != nil {
		if p.local {
			s.mu.Unlock()
			fail(statusTryAgain)
			return
		}
		// both ends connected: keep this one, retry later on ours
		p.reconnect = time.Now().Add(collisionDelay())
		p.shutdown()
		p.heartbeat = time.Time{}
	}
	if minor == protoMinorDowngrade {
		p.flags |= fDowngrade
	} else {
		p.flags &^= fDowngrade
	}
	ss := newSession(s, p)
	ss.conn, ss.r = c, r
	p.sess = ss
	p.flags |= fAlive
	s.mu.Unlock()
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.Write([]byte("200\n")); err != nil {
		s.mu.Lock()
		if p.sess == ss {
			p.deinit()
		}
		s.mu.Unlock()
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	s.mu.Lock()
	if p.sess != ss {
		s.mu.Unlock()
		c.Close()
		return
	}
	p.initAccepted(time.Now())
	s.mu.Unlock()
	ss.run()
}
