package parser

// RetryOn is the set of failures "retry-on" retries (proxy_parse_retry_on).
type RetryOn uint32

const (
	// RetryConnFailure retries a connection that could not be made.
	RetryConnFailure RetryOn = 1 << iota
	// RetryEmptyResponse retries when the server closed without answering.
	RetryEmptyResponse
	// RetryResponseTimeout retries when the answer did not come in time.
	RetryResponseTimeout
	// RetryJunkResponse retries when the answer could not be parsed.
	RetryJunkResponse
	// Retry0RTTRejected retries when the server refused TLS early data.
	Retry0RTTRejected
	Retry401
	Retry403
	Retry404
	Retry408
	Retry425
	Retry500
	Retry501
	Retry502
	Retry503
	Retry504
)

// RetryAllRetryable is "all-retryable-errors".
const RetryAllRetryable = RetryConnFailure | RetryEmptyResponse | RetryResponseTimeout | Retry500 | Retry502 |
	Retry503 | Retry504 | Retry0RTTRejected | RetryJunkResponse

// RetryL7 are the failures that need the request sent again.
const RetryL7 = ^RetryConnFailure

var retryWords = map[string]RetryOn{
	"conn-failure": RetryConnFailure, "empty-response": RetryEmptyResponse, "response-timeout": RetryResponseTimeout,
	"401": Retry401, "403": Retry403, "404": Retry404, "408": Retry408, "425": Retry425, "500": Retry500,
	"501": Retry501, "502": Retry502, "503": Retry503, "504": Retry504, "0rtt-rejected": Retry0RTTRejected,
	"junk-response": RetryJunkResponse, "all-retryable-errors": RetryAllRetryable,
}

var retryStatus = map[int]RetryOn{401: Retry401, 403: Retry403, 404: Retry404, 408: Retry408, 425: Retry425,
	500: Retry500, 501: Retry501, 502: Retry502, 503: Retry503, 504: Retry504}

// Status reports whether a response with this status is retried.
func (r RetryOn) Status(code int) bool {
	b, ok := retryStatus[code]
	return ok && r&b != 0
}

// kwRetryOn reads "retry-on <keywords>" with HAProxy's messages; the
// arguments are checked before the section.
func kwRetryOn(c *pctx) {
	if c.arg(1) == "" {
		c.alert("'%s' needs at least one keyword to specify when to retry", c.args[0])
		return
	}
	p := c.cp.proxy
	if p.Cap&CapBE == 0 {
		c.alert("'%s' only available in backend or listen section", c.args[0])
		return
	}
	var r RetryOn
	for i := 1; i < len(c.args) && c.args[i] != ""; i++ {
		a := c.args[i]
		if a == "none" {
			if i != 1 || c.arg(i+1) != "" {
				c.alert("'%s' 'none' keyworld only usable alone", c.args[0])
				return
			}
			continue
		}
		b, ok := retryWords[a]
		if !ok {
			c.alert("'%s': unknown keyword '%s'", c.args[0], a)
			return
		}
		r |= b
	}
	p.RetryOn = r
}
