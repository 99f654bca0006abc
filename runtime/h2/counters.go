package h2

import (
	"sync/atomic"

	"golang.org/x/net/http2"
)

// Counters are a proxy's h2 module counters, the h2_* fields of "show
// stat", as src/mux_h2.c keeps them: frames received, errors found in
// what was received and the frames that answered them, connections and
// streams. A frontend's count its client connections, a backend's its
// server ones. Methods do nothing on a nil receiver.
type Counters struct {
	HeadersRcvd, DataRcvd, SettingsRcvd, RstStreamRcvd, GoawayRcvd atomic.Uint64
	// ConnProtoErr and StrmProtoErr are the protocol errors found that
	// end the connection or a stream; RstStreamResp and GoawayResp the
	// RST_STREAM frames sent for a frame received, and the GOAWAY frames
	// sent with an error code.
	ConnProtoErr, StrmProtoErr, RstStreamResp, GoawayResp atomic.Uint64
	OpenConns, OpenStreams                                atomic.Int64
	TotalConns, TotalStreams                              atomic.Uint64
}

// frame counts a frame received (h2_process_demux counts these types).
func (c *Counters) frame(t http2.FrameType) {
	if c == nil {
		return
	}
	switch t {
	case http2.FrameHeaders:
		c.HeadersRcvd.Add(1)
	case http2.FrameData:
		c.DataRcvd.Add(1)
	case http2.FrameSettings:
		c.SettingsRcvd.Add(1)
	case http2.FrameRSTStream:
		c.RstStreamRcvd.Add(1)
	case http2.FrameGoAway:
		c.GoawayRcvd.Add(1)
	}
}

func (c *Counters) conn(n int64) {
	if c == nil {
		return
	}
	c.OpenConns.Add(n)
	if n > 0 {
		c.TotalConns.Add(1)
	}
}

func (c *Counters) stream(n int64) {
	if c == nil {
		return
	}
	c.OpenStreams.Add(n)
	if n > 0 {
		c.TotalStreams.Add(1)
	}
}

func (c *Counters) inc(f func(*Counters) *atomic.Uint64) {
	if c != nil {
		f(c).Add(1)
	}
}

func connProtoErr(c *Counters) *atomic.Uint64  { return &c.ConnProtoErr }
func strmProtoErr(c *Counters) *atomic.Uint64  { return &c.StrmProtoErr }
func rstStreamResp(c *Counters) *atomic.Uint64 { return &c.RstStreamResp }
func goawayResp(c *Counters) *atomic.Uint64    { return &c.GoawayResp }

// connErrCounted tells the connection errors HAProxy counts as protocol
// errors: those of frame framing and sequence, not of header
// compression or flow control.
func connErrCounted(code http2.ErrCode) bool {
	return code == http2.ErrCodeProtocol || code == http2.ErrCodeFrameSize
}

// goawayCounted tells the GOAWAY codes h2c_send_goaway_error counts:
// real errors, not attempts to close cleanly.
func goawayCounted(code http2.ErrCode) bool {
	switch code {
	case http2.ErrCodeNo, http2.ErrCodeEnhanceYourCalm, http2.ErrCodeRefusedStream, http2.ErrCodeCancel:
		return false
	}
	return true
}
