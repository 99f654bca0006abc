package proxyproto

// Error is a PROXY protocol failure. Its text is HAProxy's conn_err_code_str
// message for the same condition, ready for the connection error log.
type Error string

func (e Error) Error() string { return string(e) }

// Errors returned by Parse, and the ones the caller reports itself for the
// conditions around it (peer close, read error, timeout).
const (
	// ErrIncomplete means the bytes end before the header does. HAProxy
	// fails with this message when its first non-empty read of the
	// connection does not hold the whole header (CO_ER_PRX_TRUNCATED).
	ErrIncomplete Error = "Truncated PROXY protocol header received"
	// ErrNotHeader is CO_ER_PRX_NOT_HDR: neither a v1 line nor a v2 signature.
	ErrNotHeader Error = "Received something which does not look like a PROXY protocol header"
	// ErrBadHeader is CO_ER_PRX_BAD_HDR: a malformed v1 line or v2 block.
	ErrBadHeader Error = "Received an invalid PROXY protocol header"
	// ErrBadProto is CO_ER_PRX_BAD_PROTO: a v1 protocol other than TCP4,
	// TCP6 or a bare UNKNOWN.
	ErrBadProto Error = "Received an unhandled protocol in the PROXY protocol header"
	// ErrEmpty is CO_ER_PRX_EMPTY: the peer closed before sending anything.
	ErrEmpty Error = "Connection closed while waiting for PROXY protocol header"
	// ErrAbort is CO_ER_PRX_ABORT: a read error while waiting for the header.
	ErrAbort Error = "Connection error while waiting for PROXY protocol header"
	// ErrTimeout is CO_ER_PRX_TIMEOUT: "timeout client" expired first.
	ErrTimeout Error = "Timeout while waiting for PROXY protocol header"
)
