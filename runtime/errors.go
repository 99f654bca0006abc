package runtime

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// HAProxy 2.6's built-in error pages. Errors found while parsing a request
// are sent by the H1 multiplexer as the page is written (header names
// capitalized, "Connection: close" in the 400 and 408 ones); errors produced by the stream go through
// the HTX layer and are sent with lower-cased names on a connection that
// stays open.
type errPage struct {
	status int
	reason string
	body   string
}

var errPages = map[int]errPage{
	200: {200, "OK", "Service ready."},
	401: {401, "Unauthorized", "You need a valid user and password to access this content."},
	404: {404, "Not Found", "The resource could not be found."},
	405: {405, "Method Not Allowed", "A request was made of a resource using a request method not supported by that resource"},
	407: {407, "Unauthorized", "You need a valid user and password to access this content."},
	410: {410, "Gone", "The resource is no longer available and will not be available again."},
	413: {413, "Payload Too Large", "The request entity exceeds the maximum allowed."},
	421: {421, "Misdirected Request", "Request sent to a non-authoritative server."},
	425: {425, "Too Early", "Your browser sent early data."},
	429: {429, "Too Many Requests", "You have sent too many requests in a given amount of time."},
	501: {501, "Not Implemented", ".The server does not support the functionality required to fulfill the request."},
	400: {400, "Bad request", "Your browser sent an invalid request."},
	403: {403, "Forbidden", "Request forbidden by administrative rules."},
	408: {408, "Request Time-out", "Your browser didn't send a complete request in time."},
	422: {422, "Unprocessable Content", "The server cannot process the contained instructions."},
	500: {500, "Internal Server Error", "An internal server error occurred."},
	502: {502, "Bad Gateway", "The server returned an invalid or incomplete response."},
	503: {503, "Service Unavailable", "No server is available to handle this request."},
	504: {504, "Gateway Time-out", "The server didn't respond in time."},
}

var (
	rawErrors    = map[int][]byte{}
	streamErrors = map[int][]byte{}
	// closeErrors are stream errors on a connection that closes after.
	closeErrors = map[int][]byte{}
)

func init() {
	for code, p := range errPages {
		body := "<html><body><h1>" + strconv.Itoa(code) + " " + p.reason + "</h1>\n" + p.body + "\n</body></html>\n"
		n := strconv.Itoa(len(body))
		status := "HTTP/1.1 " + strconv.Itoa(code) + " " + p.reason + "\r\n"
		// Only HAProxy's 400 and 408 pages say the connection closes.
		conn := ""
		if code == 400 || code == 408 {
			conn = "Connection: close\r\n"
		}
		rawErrors[code] = []byte(status + "Content-length: " + n + "\r\nCache-Control: no-cache\r\n" + conn + "Content-Type: text/html\r\n\r\n" + body)
		streamErrors[code] = []byte(status + "content-length: " + n + "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n" + body)
		closeErrors[code] = []byte(status + "content-length: " + n + "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n" + body)
	}
}

// defaultPageOverflow is where HAProxy's parse of its default page for
// code into HTX stops with maxHdr header slots, -1 when it fits: each
// header is stored when the next line starts, and the end of the head
// takes a slot of its own.
func defaultPageOverflow(code, maxHdr int) int {
	raw := rawErrors[code]
	var starts []int
	off := 0
	for {
		i := bytes.Index(raw[off:], []byte("\r\n"))
		if i < 0 {
			return -1
		}
		starts = append(starts, off)
		off += i + 2
		if i == 0 {
			break
		}
	}
	switch headers := len(starts) - 2; {
	case maxHdr < headers:
		return starts[maxHdr+2]
	case maxHdr == headers:
		return off
	}
	return -1
}

// errorSet holds a proxy's errorfile pages; a nil set or a missing status
// falls back to HAProxy's built-in pages.
type errorSet struct {
	// dyn are the answers rendered per request (http-error with
	// log-format parts), as return rules.
	dyn             map[int]*httpRule
	streams, closes map[int][]byte
	// untilClose are pages without a length: the connection closes
	// after them, which is how their end is told.
	untilClose map[int]bool
}

// mustClose says the page for code ends by closing the connection: a
// page without a length, or HAProxy's own 400 and 408 pages, which carry
// "Connection: close".
func (e *errorSet) mustClose(code int) bool {
	if e != nil {
		if _, own := e.streams[code]; own {
			return e.untilClose[code]
		}
		if e.dyn[code] != nil {
			return false
		}
	}
	return code == 400 || code == 408
}

// raw is the page for errors of the connection-level parser, which
// HAProxy 2.6 always answers with its built-in pages.
func (e *errorSet) raw(code int) []byte {
	return rawErrors[code]
}

func (e *errorSet) stream(code int, close bool) []byte {
	if e != nil {
		m := e.streams
		if close {
			m = e.closes
		}
		if b, ok := m[code]; ok {
			return b
		}
	}
	if close {
		return closeErrors[code]
	}
	return streamErrors[code]
}

// proxyErrors is the error page set of a proxy, from its errorfile,
// errorloc, errorfiles and http-error lines.
func proxyErrors(cfg *parser.Config, p *parser.Proxy) *errorSet {
	pages, _ := cfg.ErrorPages(p)
	return newErrorSet(pages)
}

// withReplies adds to e the proxy's http-error answers that have
// log-format parts, compiled with the proxy's ACLs.
func withReplies(e *errorSet, cfg *parser.Config, p *parser.Proxy, set *acl.Set, fail func(parser.Pos, string, ...any)) *errorSet {
	_, replies, _ := cfg.ErrorAnswers(p)
	if len(replies) == 0 {
		return e
	}
	if e == nil {
		e = &errorSet{streams: map[int][]byte{}, closes: map[int][]byte{}, untilClose: map[int]bool{}}
	}
	e.dyn = map[int]*httpRule{}
	ctx := set.Context()
	for code, r := range replies {
		hr := &httpRule{act: "return", status: code, ctype: r.ContentType}
		var err error
		if r.BodyFormat {
			hr.bodyFmt, err = ruleFormat(r.Body, ctx)
		} else if r.Body != "" {
			hr.body = []byte(r.Body)
		}
		for _, h := range r.Hdrs {
			if err != nil {
				break
			}
			var f *logging.Format
			if f, err = ruleFormat(h[1], ctx); err == nil {
				hr.hdrs = append(hr.hdrs, ruleHdr{name: strings.ToLower(h[0]), value: f})
			}
		}
		if err != nil {
			fail(p.Pos, "proxy '%s': http-error status %d: %v", p.Name, code, err)
			continue
		}
		e.dyn[code] = hr
	}
	return e
}

// dynamic is the answer of code rendered per request, nil when the page
// is a fixed one.
func (e *errorSet) dynamic(code int) *httpRule {
	if e == nil {
		return nil
	}
	return e.dyn[code]
}

// newErrorSet prepares errorfile pages, normalised like any forwarded
// response: lower-cased names, no Connection header.
func newErrorSet(files map[int][]byte) *errorSet {
	if len(files) == 0 {
		return nil
	}
	e := &errorSet{streams: map[int][]byte{}, closes: map[int][]byte{}, untilClose: map[int]bool{}}
	for code, data := range files {
		if len(data) == 0 {
			// An empty errorfile: nothing is sent, the connection closes.
			e.streams[code], e.closes[code], e.untilClose[code] = data, data, true
			continue
		}
		var m h1.Msg
		hl := h1.HeadEnd(data, 0)
		if hl == 0 || h1.ParseResponse(data[:hl], &m, 101) != nil {
			e.streams[code], e.closes[code] = data, data
			continue
		}
		// The file's version is kept, as HAProxy keeps it in the HTX
		// start line.
		out := []byte("HTTP/1.1 ")
		if m.Minor == 0 {
			out[7] = '0'
		}
		out = strconv.AppendInt(out, int64(m.Status), 10)
		out = append(out, ' ')
		out = append(out, m.Reason.Of(data)...)
		out = append(out, "\r\n"...)
		for _, h := range m.Headers {
			name := h.Name.Of(data)
			if h1.EqualFold(name, "connection") {
				continue
			}
			out = h1.AppendLower(out, name)
			out = append(out, ": "...)
			out = append(out, h.Value.Of(data)...)
			out = append(out, "\r\n"...)
		}
		body := data[hl:]
		if m.Body != h1.BodyLength && m.Body != h1.BodyChunked {
			page := append(append(out, "\r\n"...), body...)
			e.streams[code], e.closes[code], e.untilClose[code] = page, page, true
			continue
		}
		e.streams[code] = append(append(append([]byte{}, out...), "\r\n"...), body...)
		e.closes[code] = append(append(out, "connection: close\r\n\r\n"...), body...)
	}
	return e
}
