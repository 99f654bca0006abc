package proxyproto

import (
	"bufio"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hapBufSize is tune.bufsize: HAProxy peeks at most this much for a header.
const hapBufSize = 16384

// hapVerdict is what HAProxy did with one connection: the PROXY error it
// logged, or the addresses and TLVs it echoed back.
type hapVerdict struct {
	err              string
	src, dst         string
	auth, uid        string
	status           int
	sockSrc, sockDst string
}

// sendToHAProxy sends raw on a new connection to addr and reads the answer
// and the log line it causes.
func sendToHAProxy(t *testing.T, addr string, out *outBuf, raw []byte) hapVerdict {
	t.Helper()
	before := len(out.waitLines(0, 0))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v := hapVerdict{sockSrc: c.LocalAddr().String(), sockDst: c.RemoteAddr().String()}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
		io.Copy(io.Discard, resp.Body)
		v.status = resp.StatusCode
		// src_port and dst_port give no sample for port 0.
		v.src = resp.Header.Get("src") + ":" + orZero(resp.Header.Get("srcport"))
		v.dst = resp.Header.Get("dst") + ":" + orZero(resp.Header.Get("dstport"))
		v.auth, v.uid = resp.Header.Get("auth"), resp.Header.Get("uid")
	}
	lines := out.waitLines(before+1, 3*time.Second)
	if len(lines) <= before {
		t.Fatalf("no log line from haproxy")
	}
	for _, msg := range []Error{ErrIncomplete, ErrNotHeader, ErrBadHeader, ErrBadProto, ErrEmpty, ErrAbort, ErrTimeout} {
		if strings.HasSuffix(lines[before], ": "+string(msg)) {
			v.err = string(msg)
		}
	}
	return v
}

// TestParseAgainstHAProxy sends every parse case (followed by an HTTP
// request when the header is complete) to HAProxy with "accept-proxy" and
// compares its verdict, addresses and TLVs with Parse on the same bytes.
func TestParseAgainstHAProxy(t *testing.T) {
	haproxyBin(t)
	addr := freePort(t)
	out := startHAProxy(t, `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 2s
    timeout server 2s
frontend fe
    bind `+addr+` accept-proxy
    http-request return status 200 hdr src %[src] hdr srcport %[src_port] hdr dst %[dst] hdr dstport %[dst_port] hdr auth %[fc_pp_authority,hex] hdr uid %[fc_pp_unique_id,hex]
`, addr)
	out.waitLines(1, time.Second) // the start-up probe's log line
	agree := 0
	cases := append(parseCases, mutatedCases()...)
	for _, c := range cases {
		raw := []byte(c.in)
		if _, _, err := Parse(raw); err != ErrIncomplete {
			raw = append(raw, "GET / HTTP/1.0\r\n\r\n"...)
		}
		hv := sendToHAProxy(t, addr, out, raw)
		peek := raw[:min(len(raw), hapBufSize)]
		h, _, err := Parse(peek)
		ok := true
		if got := errText(err); got != hv.err {
			t.Errorf("%s (%q): Parse says %q, haproxy %q", c.name, raw, got, hv.err)
			ok = false
		} else if err == nil && hv.status == 200 {
			src, dst := hapAddr(h.Src), hapAddr(h.Dst)
			if src == "" {
				src, dst = hv.sockSrc, hv.sockDst
			}
			if src != hv.src || dst != hv.dst {
				t.Errorf("%s: Parse gives %s -> %s, haproxy %s -> %s", c.name, src, dst, hv.src, hv.dst)
				ok = false
			}
			if a, u := strings.ToUpper(hex.EncodeToString(h.Authority)), strings.ToUpper(hex.EncodeToString(h.UniqueID)); a != hv.auth || u != hv.uid {
				t.Errorf("%s: Parse gives authority %s unique-id %s, haproxy %s %s", c.name, a, u, hv.auth, hv.uid)
				ok = false
			}
		}
		if ok {
			agree++
		}
	}
	t.Logf("Parse agrees with HAProxy on %d/%d headers", agree, len(cases))
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// mutatedCases derives inputs from the accepted cases by deterministic
// edits: a byte replaced by a character that matters to the parsers, a
// byte dropped, or the input cut short.
func mutatedCases() []parseCase {
	const alphabet = " \r\n\x00.:0129afxP"
	var out []parseCase
	seed := uint32(1)
	next := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>8) % n
	}
	for _, c := range parseCases {
		if c.want != nil {
			continue
		}
		for i := 0; i < 6; i++ {
			b := []byte(c.in)
			at := next(len(b))
			switch i % 3 {
			case 0:
				b[at] = alphabet[next(len(alphabet))]
			case 1:
				b = append(b[:at], b[at+1:]...)
			case 2:
				// An empty input would only make HAProxy wait.
				b = b[:at+1]
			}
			out = append(out, parseCase{name: c.name + " mutated " + strconv.Itoa(i), in: string(b)})
		}
	}
	return out
}
