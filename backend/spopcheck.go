package backend

import (
	"bytes"
	"encoding/binary"
)

// SPOP (SPOE protocol) frame types, data types and errors
// (include/haproxy/spoe-t.h).
const (
	spopHAProxyHello = 1
	spopAgentHello   = 101
	spopAgentDiscon  = 102
	spopFin          = 0x00000001

	spopBool   = 1
	spopInt32  = 2
	spopUint32 = 3
	spopInt64  = 4
	spopUint64 = 5
	spopIPv4   = 6
	spopIPv6   = 7
	spopStr    = 8
	spopBin    = 9
	spopTrue   = 0x10

	spopErrInvalid      = 4
	spopErrNoVsn        = 5
	spopErrNoFrameSize  = 6
	spopErrBadVsn       = 8
	spopErrBadFrameSize = 9
	spopErrFrag         = 10
	spopErrUnknown      = 99

	// spopMaxFrame is HAProxy's MAX_FRAME_SIZE (tune.bufsize - 4).
	spopMaxFrame = checkBufSize - 4
	spopMinFrame = 256
)

// spopReasons are HAProxy's spoe_frm_err_reasons.
var spopReasons = map[uint64]string{
	0: "normal", 1: "I/O error", 2: "a timeout occurred", 3: "frame is too big",
	4: "invalid frame received", 5: "version value not found", 6: "max-frame-size value not found",
	7: "capabilities value not found", 8: "unsupported version", 9: "max-frame-size too big or too small",
	10: "fragmentation not supported", 11: "invalid interlaced frames", 12: "frame-id not found",
	13: "resource allocation error", 99: "an unknown error occurred",
}

// spopVarint is HAProxy's encode_varint.
func spopVarint(b []byte, i uint64) []byte {
	if i < 240 {
		return append(b, byte(i))
	}
	b = append(b, byte(i)|240)
	i = (i - 240) >> 4
	for i >= 128 {
		b = append(b, byte(i)|128)
		i = (i - 128) >> 7
	}
	return append(b, byte(i))
}

// spopReadVarint is decode_varint; ok is false when b ends too soon.
func spopReadVarint(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	v, n = uint64(b[0]), 1
	if v < 240 {
		return v, 1, true
	}
	for r := 4; ; r += 7 {
		if n >= len(b) {
			return 0, 0, false
		}
		c := b[n]
		v += uint64(c) << r
		n++
		if c < 128 {
			return v, n, true
		}
	}
}

// spopString reads a length-prefixed buffer (spoe_decode_buffer).
func spopString(b []byte) (s []byte, n int, ok bool) {
	l, k, ok := spopReadVarint(b)
	if !ok || uint64(len(b)-k) < l {
		return nil, 0, false
	}
	return b[k : k+int(l)], k + int(l), true
}

func spopAppendString(b []byte, s string) []byte {
	return append(spopVarint(b, uint64(len(s))), s...)
}

// spopHealthcheckRequest is spoe_prepare_healthcheck_request: a HELLO
// frame with the healthcheck item.
func spopHealthcheckRequest() []byte {
	f := []byte{spopHAProxyHello, 0, 0, 0, spopFin, 0, 0}
	f = spopAppendString(f, "supported-versions")
	f = spopAppendString(append(f, spopStr), "2.0")
	f = spopAppendString(f, "max-frame-size")
	f = spopVarint(append(f, spopUint32), spopMaxFrame)
	f = spopAppendString(f, "capabilities")
	f = spopAppendString(append(f, spopStr), "")
	f = spopAppendString(f, "healthcheck")
	f = append(f, spopBool|spopTrue)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(f))), f...)
}

// spopSkip is spoe_skip_data.
func spopSkip(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 1
	switch b[0] & 0x0f {
	case spopInt32, spopInt64, spopUint32, spopUint64:
		_, k, ok := spopReadVarint(b[1:])
		return 1 + k, ok
	case spopIPv4:
		n += 4
	case spopIPv6:
		n += 16
	case spopStr, spopBin:
		_, k, ok := spopString(b[1:])
		return 1 + k, ok
	}
	return n, n <= len(b)
}

// spopVersion is spoe_str_to_vsn: major*1000+minor, -1 when invalid.
func spopVersion(s []byte) int {
	s = bytes.TrimLeft(s, " \t\r\n\v\f")
	maj, i := 0, 0
	for ; i < len(s) && s[i] != '.'; i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		maj = maj*10 + int(s[i]-'0')
	}
	if maj == 0 || i+1 >= len(s) || s[i+1] < '0' || s[i+1] > '9' {
		return -1
	}
	min := 0
	for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		min = min*10 + int(s[i]-'0')
	}
	if min > 999 || len(bytes.TrimRight(s[i:], " \t\r\n\v\f")) != 0 {
		return -1
	}
	return maj*1000 + min
}

// spopHeader checks a frame's type, flags and ids; it returns the error
// code, or 0 and the items.
func spopHeader(f []byte, typ byte) (uint64, []byte) {
	if len(f) == 0 || f[0] != typ || len(f) < 7 {
		return spopErrInvalid, nil
	}
	if binary.BigEndian.Uint32(f[1:5])&spopFin == 0 {
		return spopErrFrag, nil
	}
	if f[5] != 0 || f[6] != 0 {
		return spopErrInvalid, nil
	}
	return 0, f[7:]
}

// spopAgentHelloStatus is spoe_handle_healthcheck_response: the error
// code of an agent's answer, 0 when it is a valid HELLO.
func spopAgentHelloStatus(f []byte) uint64 {
	if len(f) > 0 && f[0] == spopAgentDiscon {
		code, p := spopHeader(f, spopAgentDiscon)
		if code != 0 {
			return code
		}
		// The agent's status-code is the error.
		code = spopErrUnknown
		for len(p) > 0 {
			key, n, ok := spopString(p)
			if !ok || len(key) == 0 {
				return spopErrInvalid
			}
			p = p[n:]
			if bytes.HasPrefix(key, []byte("status-code")) && len(p) > 0 {
				t := p[0] & 0x0f
				if t != spopInt32 && t != spopInt64 && t != spopUint32 && t != spopUint64 {
					return spopErrInvalid
				}
				v, k, ok := spopReadVarint(p[1:])
				if !ok {
					return spopErrInvalid
				}
				code, p = v, p[1+k:]
				continue
			}
			k, ok := spopSkip(p)
			if !ok {
				return spopErrInvalid
			}
			p = p[k:]
		}
		return code
	}
	code, p := spopHeader(f, spopAgentHello)
	if code != 0 {
		return code
	}
	vsn, maxFrame := 0, uint64(0)
	for len(p) > 0 {
		key, n, ok := spopString(p)
		if !ok || len(key) == 0 {
			return spopErrInvalid
		}
		p = p[n:]
		switch {
		case bytes.HasPrefix(key, []byte("version")):
			if len(p) == 0 || p[0]&0x0f != spopStr {
				return spopErrInvalid
			}
			s, k, ok := spopString(p[1:])
			if !ok {
				return spopErrInvalid
			}
			p = p[1+k:]
			if vsn = spopVersion(s); vsn != 2000 {
				return spopErrBadVsn
			}
		case bytes.HasPrefix(key, []byte("max-frame-size")):
			if len(p) == 0 {
				return spopErrInvalid
			}
			if t := p[0] & 0x0f; t != spopInt32 && t != spopInt64 && t != spopUint32 && t != spopUint64 {
				return spopErrInvalid
			}
			v, k, ok := spopReadVarint(p[1:])
			if !ok {
				return spopErrInvalid
			}
			p = p[1+k:]
			if v < spopMinFrame || v > spopMaxFrame {
				return spopErrBadFrameSize
			}
			maxFrame = v
		case bytes.HasPrefix(key, []byte("capabilities")):
			if len(p) == 0 || p[0]&0x0f != spopStr {
				return spopErrInvalid
			}
			_, k, ok := spopString(p[1:])
			if !ok {
				return spopErrInvalid
			}
			p = p[1+k:]
		default:
			k, ok := spopSkip(p)
			if !ok {
				return spopErrInvalid
			}
			p = p[k:]
		}
	}
	switch {
	case vsn == 0:
		return spopErrNoVsn
	case maxFrame == 0:
		return spopErrNoFrameSize
	}
	return 0
}

// SPOPCheck is "option spop-check": a HELLO frame marked as a health
// check, to which an SPOE agent must answer with a valid HELLO.
func SPOPCheck() *ProtoCheck {
	c := one(spopHealthcheckRequest(), 2, func(got []byte, last bool) (string, bool, bool) {
		if len(got) < 4 && !last {
			return "", false, true
		}
		var size int
		if len(got) >= 4 {
			size = int(binary.BigEndian.Uint32(got))
		}
		if len(got) < 4+size && !last {
			return "", false, true
		}
		frame := got[min(4, len(got)):min(4+size, len(got))]
		if code := spopAgentHelloStatus(frame); code != 0 {
			reason, ok := spopReasons[code]
			if !ok {
				reason = spopReasons[spopErrUnknown]
			}
			return `Layer7 invalid response, info: "` + reason + `"`, false, false
		}
		return `Layer7 check passed, code: 0, info: "SPOA server is ok"`, true, false
	}, "Layer7 timeout")
	c.QuietSuccess = true
	return c
}
