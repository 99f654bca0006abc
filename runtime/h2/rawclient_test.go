package h2

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rawClient is an HTTP/2 client that sends whatever frames a test
// wants, valid or not, and reports what comes back.
type rawClient struct {
	c    net.Conn
	bw   *bufio.Writer
	fr   *http2.Framer
	enc  *hpack.Encoder
	hbuf bytes.Buffer
	dec  *hpack.Decoder
	last []hpack.HeaderField
}

func dialRaw(addr string) (*rawClient, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	rc := &rawClient{c: c, bw: bufio.NewWriter(c)}
	rc.fr = http2.NewFramer(rc.bw, bufio.NewReader(c))
	rc.fr.AllowIllegalWrites = true
	rc.fr.SetMaxReadFrameSize(1 << 20)
	rc.enc = hpack.NewEncoder(&rc.hbuf)
	rc.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) { rc.last = append(rc.last, f) })
	return rc, nil
}

// handshake sends the preface and SETTINGS and acknowledges the server's.
func (rc *rawClient) handshake() {
	rc.bw.WriteString(Preface)
	rc.fr.WriteSettings()
	rc.flush()
}

func (rc *rawClient) flush() { rc.bw.Flush() }

// block encodes "name: value" pairs; a pair may be given as "name\x00value"
// to carry any bytes.
func (rc *rawClient) block(fields ...string) []byte {
	rc.hbuf.Reset()
	for i := 0; i+1 < len(fields); i += 2 {
		rc.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return append([]byte(nil), rc.hbuf.Bytes()...)
}

func (rc *rawClient) headers(id uint32, es bool, fields ...string) {
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: rc.block(fields...), EndStream: es, EndHeaders: true})
}

func (rc *rawClient) data(id uint32, es bool, b string) {
	rc.fr.WriteData(id, es, []byte(b))
}

// outcome reads frames until stream id gets a final answer, and says
// what it was, once the frames written so far are sent: "status N body" or "rst CODE", or "goaway CODE" for the
// connection, "closed" when it ends silently.
func (rc *rawClient) outcome(id uint32) string {
	rc.flush()
	status, body := "", ""
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			if status != "" {
				return status + " (truncated)"
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return "timeout"
			}
			return "closed"
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				rc.fr.WriteSettingsAck()
				rc.flush()
			}
		case *http2.PingFrame:
			if f.IsAck() {
				return "pong"
			}
		case *http2.GoAwayFrame:
			if f.ErrCode == http2.ErrCodeNo && status == "" {
				continue
			}
			return "goaway " + f.ErrCode.String()
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				if status != "" {
					return status + " rst " + f.ErrCode.String()
				}
				return "rst " + f.ErrCode.String()
			}
		case *http2.HeadersFrame:
			if f.StreamID != id {
				continue
			}
			rc.last = rc.last[:0]
			rc.dec.Write(f.HeaderBlockFragment())
			for _, h := range rc.last {
				if h.Name == ":status" && !strings.HasPrefix(h.Value, "1") {
					status = "status " + h.Value
				}
			}
			if f.StreamEnded() {
				return status
			}
		case *http2.DataFrame:
			if f.StreamID != id {
				continue
			}
			body += string(f.Data())
			if f.StreamEnded() {
				return status + " " + fmt.Sprintf("%q", body)
			}
		}
	}
}

func (rc *rawClient) close() { rc.c.Close() }

// readHead reads an HTTP/1.1 head and body (Content-Length or chunked)
// from r, returning the raw bytes.
func readH1Request(r *bufio.Reader) (string, error) {
	var b strings.Builder
	cl, chunked := -1, false
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		l := strings.ToLower(strings.TrimRight(line, "\r\n"))
		if l == "" {
			break
		}
		if v, ok := strings.CutPrefix(l, "content-length:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &cl)
		}
		if strings.HasPrefix(l, "transfer-encoding:") && strings.Contains(l, "chunked") {
			chunked = true
		}
	}
	switch {
	case chunked:
		for {
			line, err := r.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				return b.String(), err
			}
			var n int
			fmt.Sscanf(line, "%x", &n)
			if n == 0 {
				for {
					t, err := r.ReadString('\n')
					b.WriteString(t)
					if err != nil || t == "\r\n" {
						return b.String(), err
					}
				}
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return b.String(), err
			}
			b.Write(buf)
		}
	case cl > 0:
		buf := make([]byte, cl)
		_, err := io.ReadFull(r, buf)
		b.Write(buf)
		return b.String(), err
	}
	return b.String(), nil
}
