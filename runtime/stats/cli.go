package stats

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/unixsock"
)

// Level is a CLI access level ("stats socket ... level").
type Level int

// Access levels, as HAProxy's ACCESS_LVL_*.
const (
	LevelUser Level = iota + 1
	LevelOperator
	LevelAdmin
)

// ParseLevel reads "user", "operator" or "admin"; anything else is
// operator, HAProxy's default.
func ParseLevel(s string) Level {
	switch s {
	case "user":
		return LevelUser
	case "admin":
		return LevelAdmin
	}
	return LevelOperator
}

func (l Level) String() string {
	switch l {
	case LevelUser:
		return "user"
	case LevelOperator:
		return "operator"
	case LevelAdmin:
		return "admin"
	}
	return "unknown"
}

// Socket is one "stats socket" line.
type Socket struct {
	// Addr is a unix socket path, "fd@N" (an inherited listening socket),
	// or a TCP "ip:port", with an optional "unix@", "ipv4@" or "ipv6@".
	Addr string
	// Where names the line for errors ("FILE:LINE").
	Where string
	Level Level
	// Mode, with HasMode, sets a unix socket's permissions; Owner's ids
	// its owner (uid, user, gid, group).
	Mode    os.FileMode
	HasMode bool
	Owner   parser.UnixPerms
	// ExposeFD is "expose-fd listeners": "_getsocks" hands the
	// listening sockets over on this socket.
	ExposeFD bool
}

// CLI is a running CLI: its listeners and connections. The zero value
// is not usable; call New.
type CLI struct {
	// BytesOut, when set, counts the bytes the answers write.
	BytesOut *atomic.Uint64
	src      Source
	timeout  time.Duration
	slots    chan struct{}
	start    time.Time

	mu    sync.Mutex
	lns   []*listener
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
	// pats are the versions of the pattern references (maps.go).
	pats patVersions
	// strms are the connections' streams (sess.go), under mu; strm
	// numbers them when the Source does not.
	strms map[*cliStream]struct{}
	strm  streamCounters
	// accepted counts the connections accepted, reached those that
	// reached the CLI with a first byte and reaching those still open:
	// HAProxy's GLOBAL proxy counts them as a frontend's and as a
	// backend's (its stream reaches the CLI applet once data came).
	accepted, reached, reaching atomic.Int64
}

type listener struct {
	// id is the socket's listener id in the GLOBAL frontend.
	id     int
	ln     net.Listener
	level  Level
	addr   string // the Socket's Addr
	expose bool   // expose-fd listeners
}

// New prepares a CLI over src. timeout is the idle timeout of a
// connection ("stats timeout", 10s when zero) and maxconn the number of
// connections served at once ("stats maxconn", 10 when zero): the others
// wait in the listen backlog, as with HAProxy.
func New(src Source, timeout time.Duration, maxconn int) *CLI {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if maxconn <= 0 {
		maxconn = 10
	}
	return &CLI{src: src, timeout: timeout, slots: make(chan struct{}, maxconn), conns: map[net.Conn]struct{}{},
		strms: map[*cliStream]struct{}{}, start: time.Now()}
}

// Listen opens the sockets, in order; on error the ones already open are
// closed and the error is HAProxy's start-up alert.
func (s *CLI) Listen(socks []Socket) error { return s.ListenFrom(socks, nil) }

// ListenFrom is Listen, except that a socket prev listens on at the same
// address is a duplicate of prev's: a newer configuration of the same
// process takes it over, with no connection refused, and an inherited
// fd@ socket, which can be adopted once only, stays usable.
func (s *CLI) ListenFrom(socks []Socket, prev *CLI) error {
	for _, sk := range socks {
		ln, ok := prev.dup(sk.Addr)
		if !ok {
			var err error
			if ln, err = listen(sk); err != nil {
				s.closeListeners()
				return err
			}
		}
		s.lns = append(s.lns, &listener{id: len(s.lns) + 1, ln: ln, level: sk.Level, addr: sk.Addr, expose: sk.ExposeFD})
	}
	return nil
}

// dup duplicates the listener s has for addr; false when none.
func (s *CLI) dup(addr string) (net.Listener, bool) {
	if s == nil {
		return nil, false
	}
	for _, l := range s.lns {
		fl, ok := l.ln.(interface{ File() (*os.File, error) })
		if l.addr != addr || !ok {
			continue
		}
		f, err := fl.File()
		if err != nil {
			return nil, false
		}
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, false
		}
		if u, ok := l.ln.(*unixsock.Listener); ok {
			if ul, ok := ln.(*net.UnixListener); ok {
				ul.SetUnlinkOnClose(false)
				return &unixsock.Listener{UnixListener: ul, Path: u.Path}, true
			}
		}
		return ln, true
	}
	return nil, false
}

// Addrs returns the listening addresses, in Listen order.
func (s *CLI) Addrs() []net.Addr {
	out := make([]net.Addr, 0, len(s.lns))
	for _, l := range s.lns {
		out = append(out, l.ln.Addr())
	}
	return out
}

// Serve starts accepting on every listener.
func (s *CLI) Serve() {
	for _, l := range s.lns {
		s.wg.Add(1)
		go s.accept(l)
	}
}

// Close stops the listeners, closes the connections and waits for them.
// A unix socket file stays, as HAProxy leaves it.
func (s *CLI) Close() {
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.closeListeners()
	s.wg.Wait()
}

// forget drops a connection that is over from the ones served.
func (s *CLI) forget(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Conns returns HAProxy's counts of its GLOBAL proxy: the connections
// being served and accepted since the CLI started (feconn, fe cum_conn),
// and of those the ones that reached the CLI with data (beconn, be
// cum_conn).
func (s *CLI) Conns() (feCur, feTotal, beCur, beTotal int64) {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return int64(n), s.accepted.Load(), s.reaching.Load(), s.reached.Load()
}

// StopListening closes the listeners keep does not name by address,
// and leaves the connections be: a soft stop's stop_listener.
func (s *CLI) StopListening(keep func(addr string) bool) {
	for _, l := range s.lns {
		if keep == nil || !keep(l.addr) {
			l.ln.Close()
		}
	}
}

// Pause makes the kernel stop listening on the TCP sockets while they
// stay open (SIGTTOU), as HAProxy's tcp_suspend_receiver; unix ones are
// left as they are. Resume listens again.
func (s *CLI) Pause() {
	s.eachTCP(func(fd int) { syscall.Shutdown(fd, syscall.SHUT_RD) })
}

// Resume undoes Pause.
func (s *CLI) Resume() {
	s.eachTCP(func(fd int) { syscall.Listen(fd, syscall.SOMAXCONN) })
}

func (s *CLI) eachTCP(f func(fd int)) {
	for _, l := range s.lns {
		tl, ok := l.ln.(*net.TCPListener)
		if !ok {
			continue
		}
		if rc, err := tl.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { f(int(fd)) })
		}
	}
}

func (s *CLI) closeListeners() {
	for _, l := range s.lns {
		l.ln.Close()
	}
}

func listen(sk Socket) (net.Listener, error) {
	addr := sk.Addr
	pfx, rest, found := strings.Cut(addr, "@")
	if !found {
		pfx, rest = "", addr
		if strings.HasPrefix(addr, "/") || !strings.Contains(addr, ":") {
			pfx = "unix"
		}
	}
	switch pfx {
	case "fd":
		ln, err := adopt(rest)
		if err != nil {
			return nil, fmt.Errorf("Binding [%s] for frontend GLOBAL: cannot use inherited socket (%s) [%s]", sk.Where, unixsock.ErrText(err), addr)
		}
		return ln, nil
	case "unix", "abns":
		ln, err := listenUnix(rest, pfx == "abns", sk)
		if err != nil {
			return nil, fmt.Errorf("Binding [%s] for frontend GLOBAL: %v", sk.Where, err)
		}
		return ln, nil
	case "", "ipv4", "ipv6":
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return nil, fmt.Errorf("Binding [%s] for frontend GLOBAL: %v", sk.Where, err)
		}
		if host == "*" {
			host = ""
		}
		network := "tcp"
		if pfx == "ipv4" {
			network = "tcp4"
		} else if pfx == "ipv6" {
			network = "tcp6"
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("Binding [%s] for frontend GLOBAL: cannot bind socket (%s) for [%s]", sk.Where, unixsock.ErrText(err), rest)
		}
		return ln, nil
	}
	return nil, fmt.Errorf("Binding [%s] for frontend GLOBAL: unsupported address '%s'", sk.Where, addr)
}

// adopt takes over the listening socket inherited as descriptor n.
func adopt(n string) (net.Listener, error) {
	fd, err := strconv.Atoi(n)
	if err != nil || fd < 0 {
		return nil, syscall.EBADF
	}
	f := os.NewFile(uintptr(fd), "fd@"+n)
	if f == nil {
		return nil, syscall.EBADF
	}
	// FileListener works on a duplicate; the inherited one goes.
	defer f.Close()
	return net.FileListener(f)
}

// listenUnix binds a unix socket as HAProxy does (unixsock.Listen),
// with the line's mode and owner.
func listenUnix(path string, abstract bool, sk Socket) (net.Listener, error) {
	p := sk.Owner
	if sk.HasMode {
		p.Mode = uint32(sk.Mode)
	}
	return unixsock.Listen(path, abstract, p)
}

func (s *CLI) accept(l *listener) {
	defer s.wg.Done()
	for {
		s.slots <- struct{}{}
		c, err := l.ln.Accept()
		if err != nil {
			<-s.slots
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			<-s.slots
			return
		}
		s.conns[c] = struct{}{}
		s.accepted.Add(1)
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				s.forget(c)
				c.Close()
				<-s.slots
				s.wg.Done()
			}()
			s.serveConn(c, l)
		}()
	}
}

// maxLine is the longest request line, HAProxy's buffer size less the
// reserved byte.
const maxLine = 16384 - 1

// session is one CLI connection's state.
type session struct {
	srv    *CLI
	level  Level
	prompt bool
	out    *bufio.Writer
	// in is the connection's input, which "show events -w" watches.
	in *bufio.Reader
	// conn and expose serve "_getsocks".
	conn   net.Conn
	expose bool
	// payload is the text after a command ending with "<<", up to an
	// empty line (hasPayload tells an empty one from none).
	payload    string
	hasPayload bool
	// experimental is "experimental-mode on", expert "expert-mode on".
	experimental, expert bool
	// strm is the connection's stream, nil outside one (Exec).
	strm *cliStream
}

// serveConn runs cli_io_handler's loop: read a command up to a newline
// or an unescaped ';', answer it followed by the prompt, and end when
// the client closed, on "quit", or when no further command is pending
// outside prompt mode.
// countedWriter counts what it writes in n.
type countedWriter struct {
	w io.Writer
	n *atomic.Uint64
}

func (c countedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(uint64(n))
	return n, err
}

func (s *CLI) serveConn(c net.Conn, l *listener) {
	r := bufio.NewReaderSize(c, maxLine+1)
	var out io.Writer = c
	if s.BytesOut != nil {
		out = countedWriter{c, s.BytesOut}
	}
	w := bufio.NewWriter(out)
	ss := &session{srv: s, level: l.level, out: w, in: r, conn: c, expose: l.expose}
	ss.strm = &cliStream{start: time.Now(), l: l, c: c}
	id, epoch := s.newStream()
	ss.strm.id = id
	ss.strm.epoch.Store(epoch)
	s.mu.Lock()
	s.strms[ss.strm] = struct{}{}
	s.mu.Unlock()
	// reached is set while the stream counts among the CLI's reaching.
	reached := false
	// The stream ends before the connection does, as HAProxy's.
	endStream := func() {
		s.mu.Lock()
		delete(s.strms, ss.strm)
		s.mu.Unlock()
		if reached {
			reached = false
			s.reaching.Add(-1)
		}
	}
	defer endStream()
	counted := false
	for {
		dl := time.Now().Add(s.timeout)
		c.SetReadDeadline(dl)
		ss.strm.rx.Store(dl.UnixNano())
		if _, err := r.Peek(1); err == nil && !counted {
			counted, reached = true, true
			s.reached.Add(1)
			s.reaching.Add(1)
		}
		line, ok := ss.read(r)
		if !ok {
			break
		}
		ss.strm.rx.Store(0)
		quit := ss.run(line)
		ss.payload, ss.hasPayload = "", false
		if quit {
			break
		}
		if ss.prompt {
			w.WriteString("\n> ")
		} else {
			w.WriteString("\n")
		}
		c.SetWriteDeadline(time.Now().Add(s.timeout))
		if w.Flush() != nil {
			return
		}
		if !ss.prompt && r.Buffered() == 0 {
			break
		}
	}
	endStream()
	c.SetWriteDeadline(time.Now().Add(s.timeout))
	w.Flush()
	// Over before the client sees the end: it is no longer counted.
	s.forget(c)
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// readCommand reads up to a newline or an unescaped ';' (co_getdelim
// with '\\' as the escape), and returns the command without its
// delimiter and a trailing CR. ok is false when the connection ended or
// the line is too long.
func readCommand(r *bufio.Reader) (string, bool) {
	var b []byte
	esc := false
	for {
		ch, err := r.ReadByte()
		if err != nil {
			return "", false
		}
		if len(b) >= maxLine {
			return "", false
		}
		if esc {
			esc = false
			b = append(b, ch)
			continue
		}
		switch ch {
		case '\\':
			esc = true
			b = append(b, ch)
			continue
		case '\n', ';':
			if n := len(b); n > 0 && b[n-1] == '\r' {
				b = b[:n-1]
			}
			return string(b), true
		}
		b = append(b, ch)
	}
}

// read reads the next command and, when it ends with "<<", its payload
// into the session; ok is false when the connection ended or the request
// is too long.
func (ss *session) read(r *bufio.Reader) (line string, ok bool) {
	if line, ok = readCommand(r); !ok {
		return "", false
	}
	if strings.HasSuffix(line, payloadPattern) {
		// In prompt mode, "+ " asks for each line of the payload.
		more := func() {
			if ss.prompt {
				ss.out.WriteString("+ ")
				ss.out.Flush()
			}
		}
		if ss.payload, ok = readPayload(r, len(line), more); !ok {
			return "", false
		}
		line, ss.hasPayload = cutPayloadPattern(line)
	}
	return line, true
}

// payloadPattern ends a command whose payload follows (PAYLOAD_PATTERN).
const payloadPattern = "<<"

// readPayload reads the lines of a payload up to an empty one, as
// co_getline reads them (no escapes, no ';'), and returns them joined by
// newlines; used is the length of the command line, which counts in the
// request's size limit; more is called before each line. ok is false
// when the connection ended or the request is too long.
func readPayload(r *bufio.Reader, used int, more func()) (string, bool) {
	var b []byte
	for {
		more()
		line, err := r.ReadSlice('\n')
		if err != nil {
			return "", false
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			return strings.TrimSuffix(string(b), "\n"), true
		}
		if used+len(b)+len(line)+1 >= maxLine {
			return "", false
		}
		b = append(append(b, line...), '\n')
	}
}

// cutPayloadPattern removes the final "<<" word from a command line; ok
// is false when "<<" ends another word, which then keeps it and gets no
// payload, as in cli_parse_request.
func cutPayloadPattern(line string) (string, bool) {
	rest := strings.TrimSuffix(line, payloadPattern)
	if rest == "" || rest[len(rest)-1] == ' ' || rest[len(rest)-1] == '\t' {
		return rest, true
	}
	return line, false
}

// maxArgs is MAX_CLI_ARGS.
const maxArgs = 64

// splitArgs cuts a command into words as cli_parse_request does: spaces
// and tabs separate them, a backslash keeps the next character (and
// "\\" is one backslash). A NUL byte ends the line, as in C.
func splitArgs(line string) []string {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	var args []string
	p := 0
	for len(args) < maxArgs && p < len(line) {
		for p < len(line) && (line[p] == ' ' || line[p] == '\t') {
			p++
		}
		if p >= len(line) {
			break
		}
		start := p
		for p < len(line) && line[p] != ' ' && line[p] != '\t' {
			if line[p] == '\\' {
				p++
				if p >= len(line) {
					break
				}
			}
			p++
		}
		if p > len(line) {
			p = len(line)
		}
		raw := line[start:p]
		p++
		var w strings.Builder
		for k := 0; k < len(raw); k++ {
			if raw[k] == '\\' {
				if k+1 < len(raw) && raw[k+1] == '\\' {
					k++
				} else {
					continue
				}
			}
			w.WriteByte(raw[k])
		}
		args = append(args, w.String())
	}
	return args
}

// Exec runs one command line at the given level outside any connection,
// as a non-interactive session would, and returns its answer with the
// trailing empty line.
func (s *CLI) Exec(level Level, line string) string {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	ss := &session{srv: s, level: level, out: w}
	if !ss.run(line) {
		w.WriteString("\n")
	}
	w.Flush()
	return sb.String()
}
