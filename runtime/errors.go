package runtime

import "strconv"

// HAProxy 2.6's built-in error pages. Errors found while parsing a request
// are sent by the H1 multiplexer with the header names as written in the
// page and "Connection: close"; errors produced by the stream go through
// the HTX layer and are sent with lower-cased names on a connection that
// stays open.
type errPage struct {
	status int
	reason string
	body   string
}

var errPages = map[int]errPage{
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
		conn := "Connection: close\r\n"
		if code == 422 {
			conn = ""
		}
		rawErrors[code] = []byte(status + "Content-length: " + n + "\r\nCache-Control: no-cache\r\n" + conn + "Content-Type: text/html\r\n\r\n" + body)
		streamErrors[code] = []byte(status + "content-length: " + n + "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n" + body)
		closeErrors[code] = []byte(status + "content-length: " + n + "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n" + body)
	}
}
