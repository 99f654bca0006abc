package h1diff

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// okResponse answers every request the upstream parses, unless a case
// gives its own raw response for the first one.
const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Up: 1\r\n\r\nok\n"

// upRequest is one request the strict upstream parsed.
type upRequest struct {
	Method, Target, Version string
	Headers                 []string // header lines as received, without CRLF
	Body                    []byte
	Framing                 string   // "none", "cl" or "chunked"
	ChunkLines              []string // chunk-size lines as received, without CRLF
	Trailers                []string
}

// upEvent is a request parsed or a parse error, on connection Conn:
// connections are numbered from 1 within a case in the order of their
// first event, so one that carries nothing does not count.
type upEvent struct {
	Conn int
	Req  *upRequest
	Err  string
}

// key is what the differential test compares: everything but the chunk
// sizes, which HAProxy chooses along its buffer boundaries. Extensions
// and non-canonical sizes (leading zeros) still show.
func (e upEvent) key() string {
	if e.Req == nil {
		return fmt.Sprintf("c%d ERR %s", e.Conn, e.Err)
	}
	r := e.Req
	var b strings.Builder
	fmt.Fprintf(&b, "c%d %s %s %s", e.Conn, r.Method, r.Target, r.Version)
	for _, h := range r.Headers {
		fmt.Fprintf(&b, "\n    %q", h)
	}
	fmt.Fprintf(&b, "\n    framing=%s body=%q", r.Framing, r.Body)
	for _, l := range r.ChunkLines {
		size, ext, _ := strings.Cut(l, ";")
		if ext != "" || (len(size) > 1 && size[0] == '0') {
			fmt.Fprintf(&b, " chunkline=%q", l)
		}
	}
	for _, t := range r.Trailers {
		fmt.Fprintf(&b, "\n    trailer %q", t)
	}
	return b.String()
}

// fuzzKey is the coarser identity the fuzzer compares.
func (e upEvent) fuzzKey() string {
	if e.Req == nil {
		return "ERR"
	}
	return fmt.Sprintf("%s %s %q", e.Req.Method, e.Req.Target, e.Req.Body)
}

// upResponse is the raw answer a case gives to the first request.
type upResponse struct {
	raw   string
	close bool // close the connection after writing raw
}

// upstream is a strict HTTP/1.1 origin: CRLF line ends only, a strict
// request line and header syntax, Content-Length or strict chunked
// bodies. It logs every request it parses and every parse error, and
// closes the connection after an error.
type upstream struct {
	ln net.Listener

	mu      sync.Mutex
	events  []upEvent
	open    int
	accepts int         // connections accepted, ever
	first   int         // accept number of the first connection of this epoch
	ordinal map[int]int // accept number -> connection number in this epoch
	resp    *upResponse
	live    map[net.Conn]bool
	closed  bool
	changed chan struct{}
}

func startUpstream() (*upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{ln: ln, live: map[net.Conn]bool{}, ordinal: map[int]int{}, changed: make(chan struct{})}
	go u.serve()
	return u, nil
}

func (u *upstream) addr() string { return u.ln.Addr().String() }

func (u *upstream) close() {
	u.mu.Lock()
	u.closed = true
	for c := range u.live {
		c.Close()
	}
	u.mu.Unlock()
	u.ln.Close()
}

// reset starts a new epoch: the log is emptied, connection numbers start
// again at 1, and the first request parsed gets resp (nil: okResponse).
func (u *upstream) reset(resp *upResponse) {
	u.mu.Lock()
	u.events = nil
	u.first = u.accepts + 1
	u.ordinal = map[int]int{}
	u.resp = resp
	u.mu.Unlock()
}

// snapshot returns the events logged since reset.
func (u *upstream) snapshot() []upEvent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upEvent(nil), u.events...)
}

// idle waits until no connection is open, at most d; it reports whether
// that happened.
func (u *upstream) idle(d time.Duration) bool {
	deadline := time.After(d)
	for {
		u.mu.Lock()
		n, ch := u.open, u.changed
		u.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// notify wakes idle waiters; u.mu is held.
func (u *upstream) notify() {
	close(u.changed)
	u.changed = make(chan struct{})
}

func (u *upstream) serve() {
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		u.mu.Lock()
		if u.closed {
			u.mu.Unlock()
			c.Close()
			return
		}
		u.open++
		u.accepts++
		n := u.accepts
		u.live[c] = true
		u.notify()
		u.mu.Unlock()
		go u.handle(c, n)
	}
}

// log records an event of the connection accepted n-th. Events of a
// connection accepted before the epoch began belong to an earlier case
// and are dropped (that case saw the connection linger).
func (u *upstream) log(n int, e upEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if n < u.first {
		return
	}
	o, ok := u.ordinal[n]
	if !ok {
		o = len(u.ordinal) + 1
		u.ordinal[n] = o
	}
	e.Conn = o
	u.events = append(u.events, e)
}

// firstResponse returns the case's raw response once per epoch.
func (u *upstream) firstResponse() *upResponse {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.resp
	u.resp = nil
	return r
}

func (u *upstream) handle(c net.Conn, n int) {
	defer func() {
		c.Close()
		u.mu.Lock()
		u.open--
		delete(u.live, c)
		u.notify()
		u.mu.Unlock()
	}()
	br := bufio.NewReaderSize(c, 1<<16)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		req, err := readStrict(br, c)
		if err != nil {
			if !errors.Is(err, errCleanEOF) {
				u.log(n, upEvent{Err: err.Error()})
			}
			return
		}
		u.log(n, upEvent{Req: req})
		resp := okResponse
		closeAfter := false
		if r := u.firstResponse(); r != nil {
			resp, closeAfter = r.raw, r.close
		} else if req.Method == "HEAD" {
			resp = strings.TrimSuffix(okResponse, "ok\n")
		}
		if wantsClose(req) && !closeAfter {
			resp = strings.Replace(resp, "\r\n", "\r\nConnection: close\r\n", 1)
			closeAfter = true
		}
		if _, err := io.WriteString(c, resp); err != nil || closeAfter {
			return
		}
	}
}

// wantsClose reports whether a request asks the server to close after
// the response (HTTP/1.0 without keep-alive, or Connection: close).
func wantsClose(r *upRequest) bool {
	ka := r.Version == "HTTP/1.1"
	for _, h := range r.Headers {
		name, v, _ := strings.Cut(h, ":")
		if !strings.EqualFold(name, "connection") {
			continue
		}
		for _, tok := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(tok)) {
			case "close":
				return true
			case "keep-alive":
				ka = true
			}
		}
	}
	return !ka
}

var errCleanEOF = errors.New("clean eof")

// readLine reads one CRLF-terminated line and returns it without CRLF.
// A bare CR or a bare LF is an error.
func readLine(br *bufio.Reader, what string) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			if len(line) > 1<<17 {
				return "", fmt.Errorf("%s: line too long", what)
			}
			continue
		}
		if err != nil {
			if len(line) == 0 && err == io.EOF {
				return "", io.EOF
			}
			return "", fmt.Errorf("%s: truncated %q: %v", what, clip(string(line), 80), shortErr(err))
		}
		break
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("%s: bare LF in %q", what, clip(string(line), 80))
	}
	line = line[:len(line)-2]
	if i := bytes.IndexByte(line, '\r'); i >= 0 {
		return "", fmt.Errorf("%s: bare CR in %q", what, clip(string(line), 80))
	}
	return string(line), nil
}

func shortErr(err error) string {
	if errors.Is(err, io.EOF) {
		return "EOF"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "read error"
}

func isTchar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// validValue accepts field-content: VCHAR, obs-text, SP and HTAB.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// readStrict parses one request. w receives a 100 Continue when the
// request expects it.
func readStrict(br *bufio.Reader, w io.Writer) (*upRequest, error) {
	// A connection closed (FIN or RST) or idle between requests is not
	// an error.
	if _, err := br.Peek(1); err != nil {
		return nil, errCleanEOF
	}
	line, err := readLine(br, "request line")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 {
		return nil, fmt.Errorf("request line: not three fields: %q", clip(line, 80))
	}
	r := &upRequest{Method: parts[0], Target: parts[1], Version: parts[2]}
	if !isToken(r.Method) {
		return nil, fmt.Errorf("request line: bad method %q", clip(r.Method, 40))
	}
	if r.Target == "" {
		return nil, fmt.Errorf("request line: empty target")
	}
	for i := 0; i < len(r.Target); i++ {
		if c := r.Target[i]; c <= 0x20 || c >= 0x7f {
			return nil, fmt.Errorf("request line: bad target byte %#x", c)
		}
	}
	if r.Version != "HTTP/1.1" && r.Version != "HTTP/1.0" {
		return nil, fmt.Errorf("request line: bad version %q", clip(r.Version, 40))
	}
	cl, te := []string(nil), []string(nil)
	expect := false
	for {
		h, err := readLine(br, "header")
		if err == io.EOF {
			return nil, fmt.Errorf("header: truncated: EOF")
		}
		if err != nil {
			return nil, err
		}
		if h == "" {
			break
		}
		if len(r.Headers) >= 200 {
			return nil, fmt.Errorf("header: more than 200")
		}
		if h[0] == ' ' || h[0] == '\t' {
			return nil, fmt.Errorf("header: obs-fold %q", clip(h, 80))
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("header: no colon %q", clip(h, 80))
		}
		if !isToken(name) {
			return nil, fmt.Errorf("header: bad name %q", clip(name, 80))
		}
		if !validValue(value) {
			return nil, fmt.Errorf("header: bad value byte in %q", clip(h, 80))
		}
		r.Headers = append(r.Headers, h)
		v := strings.Trim(value, " \t")
		switch strings.ToLower(name) {
		case "content-length":
			cl = append(cl, v)
		case "transfer-encoding":
			te = append(te, v)
		case "expect":
			expect = strings.EqualFold(v, "100-continue")
		}
	}
	switch {
	case len(te) > 0 && len(cl) > 0:
		return nil, fmt.Errorf("framing: both Transfer-Encoding and Content-Length")
	case len(te) > 0:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return nil, fmt.Errorf("framing: transfer-encoding %q", strings.Join(te, ", "))
		}
		r.Framing = "chunked"
		if expect {
			io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
		}
		return r, readChunked(br, r)
	case len(cl) > 1:
		return nil, fmt.Errorf("framing: %d content-length headers", len(cl))
	case len(cl) == 1:
		v := cl[0]
		if v == "" || len(v) > 15 || strings.Trim(v, "0123456789") != "" {
			return nil, fmt.Errorf("framing: content-length %q", clip(v, 40))
		}
		n, _ := strconv.Atoi(v)
		r.Framing = "cl"
		if n > 0 && expect {
			io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
		}
		r.Body = make([]byte, n)
		if got, err := io.ReadFull(br, r.Body); err != nil {
			return nil, fmt.Errorf("body: %d of %d bytes: %s", got, n, shortErr(err))
		}
		return r, nil
	}
	r.Framing = "none"
	return r, nil
}

func readChunked(br *bufio.Reader, r *upRequest) error {
	for {
		line, err := readLine(br, "chunk size")
		if err == io.EOF {
			return fmt.Errorf("chunk size: truncated: EOF")
		}
		if err != nil {
			return err
		}
		r.ChunkLines = append(r.ChunkLines, line)
		size, ext, _ := strings.Cut(line, ";")
		if size == "" || len(size) > 15 || strings.Trim(size, "0123456789abcdefABCDEF") != "" {
			return fmt.Errorf("chunk size: bad line %q", clip(line, 80))
		}
		if strings.ContainsAny(ext, "\x00\x7f") {
			return fmt.Errorf("chunk size: bad extension %q", clip(line, 80))
		}
		n, _ := strconv.ParseInt(size, 16, 64)
		if n == 0 {
			break
		}
		buf := make([]byte, n)
		if got, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("chunk data: %d of %d bytes: %s", got, n, shortErr(err))
		}
		r.Body = append(r.Body, buf...)
		end, err := readLine(br, "chunk end")
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("chunk end: truncated: EOF")
			}
			return err
		}
		if end != "" {
			return fmt.Errorf("chunk end: %q after data", clip(end, 80))
		}
	}
	for {
		t, err := readLine(br, "trailer")
		if err == io.EOF {
			return fmt.Errorf("trailer: truncated: EOF")
		}
		if err != nil {
			return err
		}
		if t == "" {
			return nil
		}
		if t[0] == ' ' || t[0] == '\t' {
			return fmt.Errorf("trailer: obs-fold %q", clip(t, 80))
		}
		name, value, ok := strings.Cut(t, ":")
		if !ok || !isToken(name) || !validValue(value) {
			return fmt.Errorf("trailer: bad line %q", clip(t, 80))
		}
		r.Trailers = append(r.Trailers, t)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
