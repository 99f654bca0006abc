package logging

import (
	"net/netip"
	"time"
)

// Stream termination flags, as SF_* in include/haproxy/stream-t.h. The
// owner stores SF_ERR_* | SF_FINST_* | SFRedisp in Record.Flags.
const (
	SFRedisp uint32 = 0x00000100

	SFErrNone     uint32 = 0x00000000
	SFErrLocal    uint32 = 0x00001000
	SFErrCliTO    uint32 = 0x00002000
	SFErrCliCl    uint32 = 0x00003000
	SFErrSrvTO    uint32 = 0x00004000
	SFErrSrvCl    uint32 = 0x00005000
	SFErrPrxCond  uint32 = 0x00006000
	SFErrResource uint32 = 0x00007000
	SFErrInternal uint32 = 0x00008000
	SFErrDown     uint32 = 0x00009000
	SFErrKilled   uint32 = 0x0000a000
	SFErrUp       uint32 = 0x0000b000
	SFErrChkPort  uint32 = 0x0000c000
	SFErrMask     uint32 = 0x0000f000
	sfErrShift           = 12

	SFFinstR     uint32 = 0x00010000
	SFFinstC     uint32 = 0x00020000
	SFFinstH     uint32 = 0x00030000
	SFFinstD     uint32 = 0x00040000
	SFFinstL     uint32 = 0x00050000
	SFFinstQ     uint32 = 0x00060000
	SFFinstT     uint32 = 0x00070000
	SFFinstMask  uint32 = 0x00070000
	sfFinstShift        = 16
)

// Transaction cookie flags, as TX_CK_* / TX_SCK_* in
// include/haproxy/http_ana-t.h, stored in Record.TxFlags.
const (
	TxCkNone    uint32 = 0x00000000
	TxCkInvalid uint32 = 0x00000020
	TxCkDown    uint32 = 0x00000040
	TxCkValid   uint32 = 0x00000060
	TxCkExpired uint32 = 0x00000080
	TxCkOld     uint32 = 0x000000A0
	TxCkUnused  uint32 = 0x000000C0
	TxCkMask    uint32 = 0x000000E0
	txCkShift          = 5

	TxSckNone     uint32 = 0x00000000
	TxSckFound    uint32 = 0x00000100
	TxSckDeleted  uint32 = 0x00000200
	TxSckInserted uint32 = 0x00000300
	TxSckReplaced uint32 = 0x00000400
	TxSckUpdated  uint32 = 0x00000500
	TxSckMask     uint32 = 0x00000700
	txSckShift           = 8
)

const (
	sessTermCond = "-LcCsSPRIDKUIIII"
	sessFinState = "-RCHDLQT"
	sessCookie   = "NIDVEOU7"
	sessSetCook  = "NPDIRU67"
)

// TermState returns the two characters of %ts for flags.
func TermState(flags uint32) [2]byte {
	return [2]byte{sessTermCond[(flags&SFErrMask)>>sfErrShift], sessFinState[(flags&SFFinstMask)>>sfFinstShift]}
}

// CookieState returns the two cookie characters of %tsc.
func CookieState(txFlags uint32) [2]byte {
	return [2]byte{sessCookie[(txFlags&TxCkMask)>>txCkShift], sessSetCook[(txFlags&TxSckMask)>>txSckShift]}
}

// Record is what one log line may print. The owner fills it when the
// stream ends (or, for logasap, when the response starts). Byte slices may
// point into the owner's buffers: Append only reads them.
type Record struct {
	// Scratch is a buffer sample functions may reuse: a value is used
	// before the next one is fetched.
	Scratch []byte
	// AcceptDate is the wall-clock accept time (accept_date); %ms and the
	// dates use its microseconds.
	AcceptDate time.Time

	// Timers of HAProxy's struct strm_logs, in milliseconds counted from
	// the accept, -1 when the event did not happen. Append derives
	// %TR/%Tw/%Tc/%Tr/%Ta/%Td/%Tu from them as sess_build_logline() does.
	THandshake int64 // t_handshake (%Th)
	TIdle      int64 // t_idle (%Ti), -1 when none
	TRequest   int64 // tv_request - tv_accept (%Tq), -1 when no request
	TQueue     int64 // t_queue: left the queue
	TConnect   int64 // t_connect: server connection established
	TData      int64 // t_data: response headers received
	TClose     int64 // t_close: end (%Tt)

	// Addresses; the zero AddrPort prints "-". A unix-socket client or
	// frontend prints "unix" and the listener id as port.
	Client       netip.AddrPort // %ci:%cp
	Frontend     netip.AddrPort // %fi:%fp
	BackendSrc   netip.AddrPort // %bi:%bp
	Server       netip.AddrPort // %si:%sp
	ClientUnix   bool
	FrontendUnix bool
	ListenerID   int
	// ServerUnix says the server connection is a unix socket's: %si and
	// %bi print "unix", %sp and %bp 0.
	ServerUnix bool

	FrontendName string
	BackendName  string
	// ServerName is the server, or the applet name ("<STATS>",
	// "<CACHE>"...); empty prints "<NOSRV>".
	ServerName string
	// FrontendSSL adds '~' to %ft.
	FrontendSSL bool
	// BackendHTTP selects the HTTP formula of %Td.
	BackendHTTP bool
	// LogASAP prefixes %B, %Ta, %Tt and %Tu with '+' ("option logasap").
	LogASAP bool

	Status   int   // %ST
	BytesIn  int64 // %U
	BytesOut int64 // %B

	// Flags are SF_ERR_* | SF_FINST_* | SFRedisp.
	Flags uint32
	// HasTxn is set when the stream has an HTTP transaction; TxFlags then
	// holds its TX_CK_*/TX_SCK_* bits and CookieEnabled says whether the
	// backend uses cookie persistence (otherwise %tsc prints "--").
	HasTxn        bool
	TxFlags       uint32
	CookieEnabled bool
	// CliCookie and SrvCookie are "capture cookie" values; nil prints "-".
	CliCookie []byte
	SrvCookie []byte

	ActConn  int64 // %ac
	FeConn   int64 // %fc
	BeConn   int64 // %bc
	SrvConn  int64 // %sc
	Retries  int64 // %rc
	SrvQueue int64 // %sq
	BckQueue int64 // %bq

	// ReqCaps and ResCaps are the captured headers, one per "capture"
	// slot. A nil list means no capture is configured (nothing printed); a
	// nil element is a header that was not seen, an empty non-nil one a
	// header seen empty.
	ReqCaps [][]byte
	ResCaps [][]byte

	// RequestLine is the captured request line ("GET /x HTTP/1.1");
	// %r/%HM/%HU/%HP/%HPO/%HQ/%HV are cut from it. nil prints "<BADREQ>".
	RequestLine []byte
	UniqueID    []byte // %ID
	ReqCounter  uint32 // %rt (the stream's uniq_id)
	LogCount    uint32 // %lc (the frontend's log count before this line)
	Hostname    string // %H
	PID         int    // %pid

	SSLCipher  []byte // %sslc
	SSLVersion []byte // %sslv

	// Ctx is passed to sample functions.
	Ctx any
}
