// Package logfmt parses HAProxy 2.6 log-format strings ("log-format",
// "log-format-sd", "error-log-format", "unique-id-format" and the built-in
// formats) into a list of nodes, with HAProxy's own error messages.
//
// Sample expressions (%[...]) are not compiled here: the node keeps the
// expression text and the caller compiles it through its sample engine.
package logfmt

// Var is a log-format variable type; the values mirror the LOG_FMT_* enum of
// include/haproxy/log-t.h so that they can be compared with HAProxy sources.
type Var uint8

const (
	VarText Var = iota // literal text (LOG_FMT_TEXT)
	VarExpr            // sample expression (LOG_FMT_EXPR)
	VarSeparator
	VarGlobal // %o
	VarClientIP
	VarClientPort
	VarBackendIP
	VarBackendPort
	VarFrontendIP
	VarFrontendPort
	VarServerPort
	VarServerIP
	VarCounter
	VarLogCount
	VarPID
	VarDate
	VarDateGMT
	VarDateLocal
	VarTS
	VarMS
	VarFrontend
	VarFrontendXprt
	VarBackend
	VarServer
	VarBytes
	VarBytesUp
	VarTa
	VarTh
	VarTi
	VarTq
	VarTw
	VarTc
	VarTr
	VarTrDate // %tr
	VarTrDateGMT
	VarTrDateLocal
	VarTR
	VarTd
	VarTt
	VarTu
	VarStatus
	VarCookieClient
	VarCookieServer
	VarTermState
	VarTermStateCk
	VarActConn
	VarFeConn
	VarBeConn
	VarSrvConn
	VarRetries
	VarSrvQueue
	VarBckQueue
	VarHdrRequest
	VarHdrResponse
	VarHdrRequestList
	VarHdrResponseList
	VarRequest
	VarHTTPMethod
	VarHTTPURI
	VarHTTPPath
	VarHTTPPathOnly
	VarHTTPQuery
	VarHTTPVersion
	VarHostname
	VarUniqueID
	VarSSLCipher
	VarSSLVersion
	numVars
)

// LW flags: what a variable needs the proxy to keep for logging (LW_* in
// include/haproxy/log-t.h). Callers OR them into the proxy's "to_log" set.
const (
	LWInit   uint32 = 1
	LWClIP   uint32 = 2
	LWSvIP   uint32 = 4
	LWSvID   uint32 = 8
	LWReq    uint32 = 16
	LWResp   uint32 = 32
	LWBytes  uint32 = 256
	LWCookie uint32 = 512
	LWReqHdr uint32 = 1024
	LWRspHdr uint32 = 2048
	LWBckIP  uint32 = 4096
	LWFrtIP  uint32 = 8192
	LWXprt   uint32 = 16384
)

// Keyword is one entry of HAProxy's logformat_keywords[] table.
type Keyword struct {
	Name string
	Var  Var
	// HTTP is set for the PR_MODE_HTTP entries: using them in a proxy that
	// is not in HTTP mode is an error ("reserved for HTTP mode").
	HTTP bool
	LW   uint32
	// SrcAddr is set for %bi/%bp, whose callback asks the backend to keep
	// the source address of its connections (PR_O2_SRC_ADDR).
	SrcAddr bool
}

// Keywords is the 2.6 variable table, in HAProxy's order ("o" first).
var Keywords = []Keyword{
	{"o", VarGlobal, false, 0, false},
	{"B", VarBytes, false, LWBytes, false},
	{"CC", VarCookieClient, true, LWReqHdr, false},
	{"CS", VarCookieServer, true, LWRspHdr, false},
	{"H", VarHostname, false, LWInit, false},
	{"ID", VarUniqueID, false, LWBytes, false},
	{"ST", VarStatus, false, LWResp, false},
	{"T", VarDateGMT, false, LWInit, false},
	{"Ta", VarTa, true, LWBytes, false},
	{"Tc", VarTc, false, LWBytes, false},
	{"Th", VarTh, false, LWBytes, false},
	{"Ti", VarTi, true, LWBytes, false},
	{"Tl", VarDateLocal, false, LWInit, false},
	{"Tq", VarTq, true, LWBytes, false},
	{"Tr", VarTr, true, LWBytes, false},
	{"TR", VarTR, true, LWBytes, false},
	{"Td", VarTd, false, LWBytes, false},
	{"Ts", VarTS, false, LWInit, false},
	{"Tt", VarTt, false, LWBytes, false},
	{"Tu", VarTu, false, LWBytes, false},
	{"Tw", VarTw, false, LWBytes, false},
	{"U", VarBytesUp, false, LWBytes, false},
	{"ac", VarActConn, false, LWBytes, false},
	{"b", VarBackend, false, LWInit, false},
	{"bc", VarBeConn, false, LWBytes, false},
	{"bi", VarBackendIP, false, LWBckIP, true},
	{"bp", VarBackendPort, false, LWBckIP, true},
	{"bq", VarBckQueue, false, LWBytes, false},
	{"ci", VarClientIP, false, LWClIP | LWXprt, false},
	{"cp", VarClientPort, false, LWClIP | LWXprt, false},
	{"f", VarFrontend, false, LWInit, false},
	{"fc", VarFeConn, false, LWBytes, false},
	{"fi", VarFrontendIP, false, LWFrtIP | LWXprt, false},
	{"fp", VarFrontendPort, false, LWFrtIP | LWXprt, false},
	{"ft", VarFrontendXprt, false, LWInit, false},
	{"hr", VarHdrRequest, false, LWReqHdr, false},
	{"hrl", VarHdrRequestList, false, LWReqHdr, false},
	{"hs", VarHdrResponse, false, LWRspHdr, false},
	{"hsl", VarHdrResponseList, false, LWRspHdr, false},
	{"HM", VarHTTPMethod, true, LWReq, false},
	{"HP", VarHTTPPath, true, LWReq, false},
	{"HPO", VarHTTPPathOnly, true, LWReq, false},
	{"HQ", VarHTTPQuery, true, LWReq, false},
	{"HU", VarHTTPURI, true, LWReq, false},
	{"HV", VarHTTPVersion, true, LWReq, false},
	{"lc", VarLogCount, false, LWInit, false},
	{"ms", VarMS, false, LWInit, false},
	{"pid", VarPID, false, LWInit, false},
	{"r", VarRequest, true, LWReq, false},
	{"rc", VarRetries, false, LWBytes, false},
	{"rt", VarCounter, false, LWReq, false},
	{"s", VarServer, false, LWSvID, false},
	{"sc", VarSrvConn, false, LWBytes, false},
	{"si", VarServerIP, false, LWSvIP, false},
	{"sp", VarServerPort, false, LWSvIP, false},
	{"sq", VarSrvQueue, false, LWBytes, false},
	{"sslc", VarSSLCipher, false, LWXprt, false},
	{"sslv", VarSSLVersion, false, LWXprt, false},
	{"t", VarDate, false, LWInit, false},
	{"tr", VarTrDate, true, LWInit, false},
	{"trg", VarTrDateGMT, true, LWInit, false},
	{"trl", VarTrDateLocal, true, LWInit, false},
	{"ts", VarTermState, false, LWBytes, false},
	{"tsc", VarTermStateCk, false, LWInit, false},
}

// Lookup returns the keyword named name (case-sensitive, as HAProxy).
func Lookup(name string) (Keyword, bool) {
	for _, k := range Keywords {
		if k.Name == name {
			return k, true
		}
	}
	return Keyword{}, false
}

// KeywordOf returns the table entry of a variable type.
func KeywordOf(v Var) (Keyword, bool) {
	for _, k := range Keywords {
		if k.Var == v {
			return k, true
		}
	}
	return Keyword{}, false
}

// Built-in formats of src/log.c (v2.6).
const (
	// HTTPLog is "option httplog".
	HTTPLog = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
	// HTTPSLog is "option httpslog".
	HTTPSLog = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc"
	// HTTPLogCLF is "option httplog clf".
	HTTPLogCLF = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
	// TCPLog is "option tcplog".
	TCPLog = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
	// RFC5424SD is the structured-data format used when a frontend has an
	// rfc5424 target and no "log-format-sd".
	RFC5424SD = "- "
)

// A frontend with "log" targets but no log format at all does not build a
// line per stream: it sends one "Connect from" line per accepted
// connection instead (frontend.c); runtime/logging renders it.
