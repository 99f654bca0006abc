package runtime

import (
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/runtime/ssl"
	"github.com/gohap/gohap/runtime/stats"
)

// sslProcess is the process' TLS counters of "show info": the TLS
// endpoints open and made (global.sslconns and totalsslconns, clients'
// and servers'), the TLS connections accepted per second
// (ssl_per_sec), and the full handshakes per second with clients and
// with servers (ssl_fe_keys_per_sec, ssl_be_keys_per_sec).
type sslProcess struct {
	conns                atomic.Int64
	total                atomic.Uint64
	rate, feKeys, beKeys rateCounter
}

// sslCounters returns the graph's TLS counters.
func (g *Graph) sslCounters() *sslProcess { return &g.sslProc }

// Open counts a TLS endpoint set up, before its handshake, as
// ssl_sock_init does; Close counts it closed. Health checks count
// through them too (backend.TLSCounter).
func (p *sslProcess) Open() {
	p.conns.Add(1)
	p.total.Add(1)
}

func (p *sslProcess) Close() { p.conns.Add(-1) }

// countedTLS is a server's TLS connection that counts itself closed once.
type countedTLS struct {
	net.Conn
	p    *sslProcess
	done atomic.Bool
}

func (c *countedTLS) Close() error {
	if c.done.CompareAndSwap(false, true) {
		c.p.Close()
	}
	return c.Conn.Close()
}

// accepted counts a connection on a TLS bind (listener_accept).
func (p *sslProcess) accepted(now time.Time) { p.rate.add(now) }

// handshake counts a handshake that made new keys, with a client
// (front) or a server.
func (p *sslProcess) handshake(front, resumed bool, err error) {
	if err != nil || resumed {
		return
	}
	if front {
		p.feKeys.add(time.Now())
	} else {
		p.beKeys.add(time.Now())
	}
}

// Handshake counts a health check's handshake (backend.TLSCounter).
func (p *sslProcess) Handshake(tc *tls.Conn, err error) {
	p.handshake(false, err == nil && tc.ConnectionState().DidResume, err)
}

// info fills show info's TLS fields. The reuse share is HAProxy's:
// 100 * (1 - key rate / session rate) from the estimates, truncated.
func (p *sslProcess) info(now time.Time, in *stats.Info) {
	in.SSLConns, in.CumSSLConns = int(p.conns.Load()), p.total.Load()
	in.SSLRate, in.MaxSSLRate = p.rate.read(now)
	in.SSLFEKeyRate, in.SSLFEMaxKeyRate = p.feKeys.read(now)
	in.SSLBEKeyRate, in.SSLBEMaxKeyRate = p.beKeys.read(now)
	in.SSLCacheLookups, in.SSLCacheMisses = ssl.CacheCounters()
	sess, keys := p.rate.readFloat(now), p.feKeys.readFloat(now)
	if keys < sess {
		in.SSLReusePct = int(100 * (1 - keys/sess))
	}
}
