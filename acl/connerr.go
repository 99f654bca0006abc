package acl

// Connection error codes, as CO_ER_* in HAProxy's connection-t.h: what
// fc_err and bc_err return and what a connection that failed before
// carrying a stream is logged with.
const (
	ConnErrNone        uint8 = 0
	ConnErrPrxEmpty    uint8 = 11
	ConnErrPrxAbort    uint8 = 12
	ConnErrPrxTimeout  uint8 = 13
	ConnErrCIPEmpty    uint8 = 18
	ConnErrCIPAbort    uint8 = 19
	ConnErrCIPTimeout  uint8 = 20
	ConnErrSSLEmpty    uint8 = 24
	ConnErrSSLAbort    uint8 = 25
	ConnErrSSLTimeout  uint8 = 26
	ConnErrSSLCAFail   uint8 = 30
	ConnErrSSLCrtFail  uint8 = 31
	ConnErrMismatch    uint8 = 32
	ConnErrMismatchSNI uint8 = 33
	ConnErrSSLHandshk  uint8 = 34
	ConnErrSSLFatal    uint8 = 43
)

// connErrText is conn_err_code_str's text for each code, in code order.
var connErrText = [...]string{
	"Success",
	"Reached configured maxconn value",
	"Too many sockets on the process",
	"Too many sockets on the system",
	"Out of system buffers",
	"Protocol or address family not supported",
	"General socket error",
	"Source port range exhausted",
	"Can't bind to source address",
	"Out of local source ports on the system",
	"Local source address already in use",
	"Connection closed while waiting for PROXY protocol header",
	"Connection error while waiting for PROXY protocol header",
	"Timeout while waiting for PROXY protocol header",
	"Truncated PROXY protocol header received",
	"Received something which does not look like a PROXY protocol header",
	"Received an invalid PROXY protocol header",
	"Received an unhandled protocol in the PROXY protocol header",
	"Connection closed while waiting for NetScaler Client IP header",
	"Connection error while waiting for NetScaler Client IP header",
	"Timeout while waiting for a NetScaler Client IP header",
	"Truncated NetScaler Client IP header received",
	"Received an invalid NetScaler Client IP magic number",
	"Received an unhandled protocol in the NetScaler Client IP header",
	"Connection closed during SSL handshake",
	"Connection error during SSL handshake",
	"Timeout during SSL handshake",
	"Too many SSL connections",
	"Out of memory when initializing an SSL connection",
	"Rejected a client-initiated SSL renegotiation attempt",
	"SSL client CA chain cannot be verified",
	"SSL client certificate not trusted",
	"Server presented an SSL certificate different from the configured one",
	"Server presented an SSL certificate different from the expected one",
	"SSL handshake failure",
	"SSL handshake failure after heartbeat",
	"Stopped a TLSv1 heartbeat attack (CVE-2014-0160)",
	"Attempt to use SSL on an unknown target (internal error)",
	"Server refused early data",
	"SOCKS4 Proxy write error during handshake",
	"SOCKS4 Proxy read error during handshake",
	"SOCKS4 Proxy deny the request",
	"SOCKS4 Proxy handshake aborted by server",
	"SSL fatal error",
}

// ConnErrText is the text of a connection error code ("" when unknown).
func ConnErrText(code uint8) string {
	if int(code) < len(connErrText) {
		return connErrText[code]
	}
	return ""
}

// ConnErrCode is the code of a connection error text, ConnErrSSLHandshk
// for a text that is none of HAProxy's.
func ConnErrCode(text string) uint8 {
	for i, t := range connErrText {
		if t == text {
			return uint8(i)
		}
	}
	return ConnErrSSLHandshk
}
