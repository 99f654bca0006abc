package ssl

import (
	"net"

	"github.com/cespare/xxhash/v2"

	"github.com/gohap/gohap/acl"
)

// ParseClientHello reads a ClientHello handshake message (its type and
// length first) as HAProxy's ssl_sock_parse_clienthello does, keeping at
// most size bytes: the cipher list, then the extension types, the
// curves and the point formats, each cut to what is left. nil when the
// message ends before its cipher list; a message cut later keeps what
// was read until then.
func ParseClientHello(m []byte, size int) *acl.HelloCapture {
	if len(m) < 4 || m[0] != 1 {
		return nil
	}
	n := int(m[1])<<16 | int(m[2])<<8 | int(m[3])
	if len(m) < n+4 {
		return nil
	}
	b := m[4 : 4+n]
	if len(b) < 2 {
		return nil
	}
	h := &acl.HelloCapture{Version: uint16(b[0])<<8 | uint16(b[1]), Name: OpenSSLCipherName}
	p := 2 + 32 // the random
	if p >= len(b) {
		return nil
	}
	p += int(b[p]) + 1 // the session id
	if p+2 > len(b) {
		return nil
	}
	cl := int(b[p])<<8 | int(b[p+1])
	p += 2
	if p+cl > len(b) {
		return nil
	}
	h.XXH64 = xxhash.Sum64(b[p : p+cl])
	h.CipherLen = min(size, cl)
	h.Data = append(make([]byte, 0, size), b[p:p+h.CipherLen]...)
	p += cl
	off := h.CipherLen
	if p >= len(b) {
		return h
	}
	p += int(b[p]) + 1 // the compression methods
	if p+2 > len(b) {
		return h
	}
	el := int(b[p])<<8 | int(b[p+1])
	p += 2
	if p+el > len(b) {
		return h
	}
	end := p + el
	h.ExtOff = off
	var ec, ecf []byte
	// As HAProxy, an extension ending the list with no data is not
	// read.
	for p+4 < end {
		if size < off+2 {
			break
		}
		h.Data = append(h.Data, b[p], b[p+1])
		off += 2
		h.ExtLen += 2
		id := uint16(b[p])<<8 | uint16(b[p+1])
		rl := int(b[p+2])<<8 | int(b[p+3])
		p += 4
		if p+rl > end {
			return h
		}
		switch id {
		case 0x000a:
			le := p + rl
			if p+2 > le {
				return h
			}
			rl = int(b[p])<<8 | int(b[p+1])
			p += 2
			if p+rl > le {
				return h
			}
			ec = b[p : p+rl : p+rl]
		case 0x000b:
			le := p + rl
			if p+1 > le {
				return h
			}
			rl = int(b[p])
			p++
			if p+rl > le {
				return h
			}
			ecf = b[p : p+rl : p+rl]
		}
		p += rl
	}
	keep := func(list []byte) (int, int) {
		l := min(len(list), size-off)
		h.Data = append(h.Data, list[:l]...)
		o := off
		off += l
		return o, l
	}
	if ec != nil {
		h.ECOff, h.ECLen = keep(ec)
	}
	if ecf != nil {
		h.ECFOff, h.ECFLen = keep(ecf)
	}
	return h
}

// HelloTap reads through to a client connection and keeps its first
// handshake message, the ClientHello, for ParseClientHello.
type HelloTap struct {
	net.Conn
	rec, msg []byte
	done     bool
}

func (t *HelloTap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if !t.done && n > 0 {
		t.feed(p[:n])
	}
	return n, err
}

// feed splits what was read into records and gathers the payload of the
// handshake ones until the first message is whole.
func (t *HelloTap) feed(b []byte) {
	t.rec = append(t.rec, b...)
	for len(t.rec) >= 5 {
		l := int(t.rec[3])<<8 | int(t.rec[4])
		if len(t.rec) < 5+l {
			return
		}
		if t.rec[0] != 22 || len(t.msg) > 1<<17 {
			t.stop()
			return
		}
		t.msg = append(t.msg, t.rec[5:5+l]...)
		t.rec = t.rec[5+l:]
		if len(t.msg) >= 4 && len(t.msg) >= 4+(int(t.msg[1])<<16|int(t.msg[2])<<8|int(t.msg[3])) {
			t.stop()
			return
		}
	}
}

func (t *HelloTap) stop() { t.done, t.rec = true, nil }

// Capture is the ClientHello's capture, nil when none was read.
func (t *HelloTap) Capture(size int) *acl.HelloCapture {
	if !t.done || len(t.msg) < 4 {
		return nil
	}
	return ParseClientHello(t.msg, size)
}
