// Package echo is a raw HTTP/1.1 and WebSocket upstream for demos, tests
// and benchmarks. It answers each request with the exact request head it
// received, so a client can see what a proxy forwarded, and serves a few
// paths that misbehave on purpose:
//
//	/size/N      N bytes with Content-Length
//	/chunked/N   N bytes in 4 KiB chunks
//	/sleep/MS    answer after MS milliseconds
//	/status/N    answer with status N
//	/redirect    a 302 to http://example.com/target
//	.../setck    the response sets cookies JSESSIONID and SRV
//	/untilclose  a body delimited by closing the connection
//	/close       half a response head, then close
//	/drop        close without answering
//	/badaccept   a 101 with a wrong Sec-WebSocket-Accept
//
// A WebSocket upgrade on any other path gets a 101 and its messages echoed.
// Request bodies are read and summed (x-body-len, x-body-crc headers).
package echo

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running echo upstream.
type Server struct {
	Name string
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]struct{}
	// Requests counts the requests served; Conns the connections accepted.
	Requests, Conns atomic.Int64
}

// Start listens on addr ("127.0.0.1:0" for any port) and serves until
// Close. name is returned in the x-server header of every response.
func Start(name, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Name: name, ln: ln, conn: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Open counts the connections open now.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conn)
}

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conn {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.Conns.Add(1)
		s.mu.Lock()
		s.conn[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conn, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

type request struct {
	head    []byte
	method  string
	path    string
	minor   int
	headers map[string]string // lower-cased names, last value
}

func readHead(r *bufio.Reader) (*request, error) {
	req := &request{headers: map[string]string{}}
	first := true
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		req.head = append(req.head, line...)
		l := strings.TrimRight(string(line), "\r\n")
		if first {
			if l == "" {
				req.head = req.head[:0]
				continue
			}
			f := strings.Fields(l)
			if len(f) != 3 {
				return nil, fmt.Errorf("bad request line %q", l)
			}
			req.method, req.path = f[0], f[1]
			if f[2] == "HTTP/1.1" {
				req.minor = 1
			}
			first = false
			continue
		}
		if l == "" {
			return req, nil
		}
		if k, v, ok := strings.Cut(l, ":"); ok {
			req.headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
}

func (s *Server) serve(c net.Conn) {
	r := bufio.NewReaderSize(c, 32<<10)
	w := bufio.NewWriterSize(c, 32<<10)
	buf := make([]byte, 32<<10)
	for {
		req, err := readHead(r)
		if err != nil {
			return
		}
		s.Requests.Add(1)
		conn := strings.ToLower(req.headers["connection"])
		keep := req.minor == 1 && !strings.Contains(conn, "close") || strings.Contains(conn, "keep-alive")
		if strings.EqualFold(req.headers["upgrade"], "websocket") {
			s.websocket(c, r, w, req)
			return
		}
		if req.headers["expect"] == "100-continue" {
			w.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			w.Flush()
		}
		n, sum, err := readBody(r, req, buf)
		if err != nil {
			return
		}
		hdr := fmt.Sprintf("x-server: %s\r\nx-body-len: %d\r\nx-body-crc: %08x\r\n", s.Name, n, sum)
		if !keep {
			hdr += "Connection: close\r\n"
		}
		if strings.Contains(req.path, "/setck") {
			hdr += "Set-Cookie: JSESSIONID=abc; Path=/\r\nSet-Cookie: SRV=server-set; Path=/\r\n"
		}
		status := "200 OK"
		body := req.head
		switch {
		case req.path == "/drop":
			return
		case req.path == "/close":
			w.WriteString("HTTP/1.1 200 OK\r\nContent-Le")
			w.Flush()
			return
		case strings.HasPrefix(req.path, "/sleep/"):
			ms, _ := strconv.Atoi(req.path[7:])
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case strings.HasPrefix(req.path, "/status/"):
			status = req.path[8:] + " Test"
		case req.path == "/redirect":
			status = "302 Found"
			hdr += "Location: http://example.com/target\r\n"
		case strings.HasPrefix(req.path, "/size/"):
			size, _ := strconv.ParseInt(req.path[6:], 10, 64)
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n", hdr, size)
			if req.method != "HEAD" {
				writeN(w, size)
			}
			if w.Flush() != nil || !keep {
				return
			}
			continue
		case strings.HasPrefix(req.path, "/chunked/"):
			size, _ := strconv.ParseInt(req.path[9:], 10, 64)
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n", hdr)
			for size > 0 {
				k := min(size, 4096)
				fmt.Fprintf(w, "%x\r\n", k)
				writeN(w, k)
				w.WriteString("\r\n")
				size -= k
			}
			w.WriteString("0\r\n\r\n")
			if w.Flush() != nil || !keep {
				return
			}
			continue
		case req.path == "/untilclose":
			fmt.Fprintf(w, "HTTP/1.1 200 OK\r\n%s\r\n", hdr)
			w.Write(req.head)
			w.Flush()
			return
		}
		fmt.Fprintf(w, "HTTP/1.1 %s\r\n%sContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", status, hdr, len(body))
		if req.method != "HEAD" {
			w.Write(body)
		}
		if w.Flush() != nil || !keep {
			return
		}
	}
}

var pattern = []byte(strings.Repeat("0123456789abcdef", 256))

func writeN(w *bufio.Writer, n int64) {
	for n > 0 {
		k := min(n, int64(len(pattern)))
		w.Write(pattern[:k])
		n -= k
	}
}

func readBody(r *bufio.Reader, req *request, buf []byte) (int64, uint32, error) {
	h := crc32.NewIEEE()
	if strings.Contains(strings.ToLower(req.headers["transfer-encoding"]), "chunked") {
		var n int64
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return 0, 0, err
			}
			line = strings.TrimRight(line, "\r\n")
			if i := strings.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				return 0, 0, err
			}
			if size == 0 {
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return 0, 0, err
					}
					if strings.TrimRight(l, "\r\n") == "" {
						return n, h.Sum32(), nil
					}
				}
			}
			if _, err := io.CopyBuffer(h, io.LimitReader(r, size), buf); err != nil {
				return 0, 0, err
			}
			n += size
			if _, err := r.Discard(2); err != nil {
				return 0, 0, err
			}
		}
	}
	cl, _ := strconv.ParseInt(req.headers["content-length"], 10, 64)
	if cl > 0 {
		if _, err := io.CopyBuffer(h, io.LimitReader(r, cl), buf); err != nil {
			return 0, 0, err
		}
	}
	return cl, h.Sum32(), nil
}

func (s *Server) websocket(c net.Conn, r *bufio.Reader, w *bufio.Writer, req *request) {
	key := req.headers["sec-websocket-key"]
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	accept := base64.StdEncoding.EncodeToString(sum[:])
	if req.path == "/badaccept" {
		accept = "bm90IHRoZSByaWdodCBrZXk="
	}
	// x-req shows the request head the upstream received.
	seen := strings.ReplaceAll(strings.TrimRight(string(req.head), "\r\n"), "\r\n", "|")
	fmt.Fprintf(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nx-server: %s\r\nx-req: %s\r\n\r\n", accept, s.Name, seen)
	if w.Flush() != nil {
		return
	}
	// Echo every message frame, unmasked as a server must send it.
	for {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		op := h[0] & 0x0f
		masked := h[1]&0x80 != 0
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		var mask [4]byte
		if masked {
			if _, err := io.ReadFull(r, mask[:]); err != nil {
				return
			}
		}
		if n > 64<<20 {
			return
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		if masked {
			for i := range payload {
				payload[i] ^= mask[i%4]
			}
		}
		if op == 0x9 { // ping → pong
			op = 0xA
		}
		hdr := []byte{0x80 | op}
		switch {
		case n < 126:
			hdr = append(hdr, byte(n))
		case n < 1<<16:
			hdr = append(hdr, 126, byte(n>>8), byte(n))
		default:
			hdr = append(hdr, 127)
			hdr = binary.BigEndian.AppendUint64(hdr, n)
		}
		w.Write(hdr)
		w.Write(payload)
		if w.Flush() != nil || op == 0x8 {
			return
		}
	}
}
