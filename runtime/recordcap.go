package runtime

import (
	"crypto/tls"
	"net"
)

// recordCap bounds the TLS records written to a connection as HAProxy's
// ssl_sock_from_buf does: at most max bytes (tune.ssl.maxrecord), except
// while the stream streams, and never more than hard
// (tune.ssl.hard-maxrecord). Streaming is HAProxy's CF_STREAMER, judged
// on what it forwards: three writes in a row of at least a buffer less
// its reserve start it, three of at most half a buffer end it. HAProxy's
// HTTP/2 mux never streams (h2).
type recordCap struct {
	*tls.Conn
	max, hard int
	h2        bool
	// full and half are the sizes that count as a full and a small
	// transfer; large and small count them in a row.
	full, half   int
	large, small int
	streamer     bool
	fast         bool
}

// newRecordCap bounds tc's records by the graph's settings; tc itself
// when there are none.
func (g *Graph) newRecordCap(tc *tls.Conn, h2 bool) net.Conn {
	if g.maxRecord == 0 && g.hardMaxRecord == 0 {
		return tc
	}
	return &recordCap{Conn: tc, max: g.maxRecord, hard: g.hardMaxRecord, h2: h2, full: g.fullXfer, half: g.halfXfer}
}

// observe updates the streaming state as channel_recv does for a read
// of n bytes.
func (r *recordCap) observe(n int) {
	switch {
	case r.streamer && n <= r.half:
		r.large = 0
		r.small++
		if r.small >= 3 {
			r.streamer, r.fast = false, false
		} else if r.small >= 2 {
			r.fast = false
		}
	case !r.fast && n >= r.full:
		r.small = 0
		r.large++
		if r.large >= 3 {
			r.streamer, r.fast = true, true
		}
	default:
		r.small, r.large = 0, 0
	}
}

func (r *recordCap) Write(p []byte) (int, error) {
	if !r.h2 {
		r.observe(len(p))
	}
	limit := r.hard
	if r.max > 0 && !r.streamer && (limit == 0 || r.max < limit) {
		limit = r.max
	}
	if limit == 0 || len(p) <= limit {
		return r.Conn.Write(p)
	}
	n := 0
	for n < len(p) {
		w, err := r.Conn.Write(p[n:min(n+limit, len(p))])
		n += w
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// tlsConnOf is the TLS connection under c, nil when c is not one.
func tlsConnOf(c net.Conn) *tls.Conn {
	switch t := c.(type) {
	case *tls.Conn:
		return t
	case *recordCap:
		return t.Conn
	}
	return nil
}
