package runtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/runtime/h2"
	"github.com/gohap/gohap/runtime/stats"
)

// trafficCounters are the counters the request path keeps for the stats
// page and "show stat", the same for frontends, backends and servers
// (HAProxy's fe_counters/be_counters). The zero value is ready; every
// method is safe for concurrent use and does nothing on a nil receiver,
// so that a graph compiled without stats costs a nil check.
type trafficCounters struct {
	bytesIn, bytesOut     atomic.Uint64
	deniedReq, deniedResp atomic.Uint64
	failedReq             atomic.Uint64
	failedConns           atomic.Uint64
	failedResp            atomic.Uint64
	retries, redispatches atomic.Uint64
	// resp counts responses by class: [0] other, [1] 1xx ... [5] 5xx.
	resp                 [6]atomic.Uint64
	requests             atomic.Uint64
	cliAborts, srvAborts atomic.Uint64
	intercepted          atomic.Uint64
	failedRewrites       atomic.Uint64
	internal             atomic.Uint64
	connect, reuse       atomic.Uint64
	// splicedIn and splicedOut are the h1 module's spliced bytes.
	splicedIn, splicedOut atomic.Uint64
	ssl                   sslCounters
	h1                    h1Counters
	h2                    h2.Counters
	// lastSess is the Unix second of the last session, 0 for none.
	lastSess atomic.Int64
	// Times in ms: sliding averages over 1024 samples and maxima.
	times timeStats
	// Per-second rates of sessions and of requests; connRate is a
	// frontend's of accepted connections, sessions its sessions (stot),
	// which a connection becomes once its rules and handshake passed.
	sessRate, reqRate, connRate rateCounter
	sessions                    atomic.Uint64
}

// h1Counters are the h1 module's of a frontend: its HTTP/1 client
// connections and streams, open and in all, and the bytes they read and
// wrote.
type h1Counters struct {
	openConns, openStreams                      atomic.Int64
	totalConns, totalStreams, bytesIn, bytesOut atomic.Uint64
}

func (c *h1Counters) load() stats.H1Counts {
	return stats.H1Counts{OpenConns: c.openConns.Load(), OpenStreams: c.openStreams.Load(),
		TotalConns: c.totalConns.Load(), TotalStreams: c.totalStreams.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load()}
}

// h1Conn counts an HTTP/1 connection opening (n 1) or closing (n -1).
func (c *trafficCounters) h1Conn(n int64) {
	if c == nil {
		return
	}
	c.h1.openConns.Add(n)
	if n > 0 {
		c.h1.totalConns.Add(1)
	}
}

// h1Stream counts a stream starting (n 1) or ending (n -1).
func (c *trafficCounters) h1Stream(n int64) {
	if c == nil {
		return
	}
	c.h1.openStreams.Add(n)
	if n > 0 {
		c.h1.totalStreams.Add(1)
	}
}

// h2Counters is where a connection of p counts, nil without stats.
func (c *trafficCounters) h2Counters() *h2.Counters {
	if c == nil {
		return nil
	}
	return &c.h2
}

func loadH2(c *h2.Counters) stats.H2Counts {
	return stats.H2Counts{HeadersRcvd: c.HeadersRcvd.Load(), DataRcvd: c.DataRcvd.Load(),
		SettingsRcvd: c.SettingsRcvd.Load(), RstStreamRcvd: c.RstStreamRcvd.Load(), GoawayRcvd: c.GoawayRcvd.Load(),
		ConnProtoErr: c.ConnProtoErr.Load(), StrmProtoErr: c.StrmProtoErr.Load(),
		RstStreamResp: c.RstStreamResp.Load(), GoawayResp: c.GoawayResp.Load(),
		OpenConns: c.OpenConns.Load(), OpenStreams: c.OpenStreams.Load(),
		TotalConns: c.TotalConns.Load(), TotalStreams: c.TotalStreams.Load()}
}

// sslCounters are the ssl module's: full, resumed and failed handshakes.
type sslCounters struct {
	sess, reused, failed atomic.Uint64
}

// handshake counts one handshake's outcome, as ssl_sock_handshake.
func (c *sslCounters) handshake(resumed bool, err error) {
	switch {
	case err != nil:
		c.failed.Add(1)
	case resumed:
		c.reused.Add(1)
	default:
		c.sess.Add(1)
	}
}

func (c *sslCounters) load() stats.SSLCounts {
	return stats.SSLCounts{Sess: c.sess.Load(), Reused: c.reused.Load(), Failed: c.failed.Load()}
}

// countHandshake counts a handshake on each of cs, nil ones aside.
func countHandshake(resumed bool, err error, cs ...*trafficCounters) {
	for _, c := range cs {
		if c != nil {
			c.ssl.handshake(resumed, err)
		}
	}
}

// addResponse counts a response sent with the given status (a status
// below 100 or above 599 counts as "other", as an aborted exchange does).
func (c *trafficCounters) addResponse(status int) {
	if c == nil {
		return
	}
	k := status / 100
	if k < 1 || k > 5 {
		k = 0
	}
	c.resp[k].Add(1)
}

// addRequest counts an HTTP request parsed for this object.
func (c *trafficCounters) addRequest(now time.Time) {
	if c == nil {
		return
	}
	c.requests.Add(1)
	c.reqRate.add(now)
}

// addSession counts a session (a connection to a server, a stream for a
// backend, an accepted connection for a frontend).
func (c *trafficCounters) addSession(now time.Time) {
	if c == nil {
		return
	}
	c.lastSess.Store(now.Unix())
	c.sessRate.add(now)
}

// addFeSession counts a frontend's session (stot as well as the rate);
// backends and servers count theirs elsewhere (streams, Total).
func (c *trafficCounters) addFeSession(now time.Time) {
	if c == nil {
		return
	}
	c.addSession(now)
	c.sessions.Add(1)
}

// addConn counts a connection a frontend accepted (cum_conn's rate).
func (c *trafficCounters) addConn(now time.Time) {
	if c == nil {
		return
	}
	c.connRate.add(now)
}

// touch marks the object as just used (lastsess) without counting a
// session, as a stream set to a backend does.
func (c *trafficCounters) touch() {
	if c == nil {
		return
	}
	c.lastSess.Store(time.Now().Unix())
}

// addBytes counts bytes received from the client (in) and sent to it
// (out), as HAProxy counts bin and bout on every object of the stream.
func (c *trafficCounters) addBytes(in, out int64) {
	if c == nil {
		return
	}
	if in > 0 {
		c.bytesIn.Add(uint64(in))
	}
	if out > 0 {
		c.bytesOut.Add(uint64(out))
	}
}

// addDenied counts a request (or, with resp, a response) refused by a rule.
func (c *trafficCounters) addDenied(resp bool) {
	if c == nil {
		return
	}
	if resp {
		c.deniedResp.Add(1)
	} else {
		c.deniedReq.Add(1)
	}
}

// Error kinds for addError.
const (
	errRequest  = iota // ereq: a request that could not be parsed
	errConnect         // econ: a server connection that failed
	errResponse        // eresp: a server response that failed
	errInternal        // eint
	errRewrite         // wrew: a header rewrite that failed
)

func (c *trafficCounters) addError(kind int) {
	if c == nil {
		return
	}
	switch kind {
	case errRequest:
		c.failedReq.Add(1)
	case errConnect:
		c.failedConns.Add(1)
	case errResponse:
		c.failedResp.Add(1)
	case errInternal:
		c.internal.Add(1)
	case errRewrite:
		c.failedRewrites.Add(1)
	}
}

// addAbort counts an exchange the client (or, with server, the server)
// cut short.
func (c *trafficCounters) addAbort(server bool) {
	if c == nil {
		return
	}
	if server {
		c.srvAborts.Add(1)
	} else {
		c.cliAborts.Add(1)
	}
}

// addRetry counts a retry (wretr), or a redispatch to another server
// (wredis) instead.
func (c *trafficCounters) addRetry(redispatch bool) {
	if c == nil {
		return
	}
	if redispatch {
		c.redispatches.Add(1)
	} else {
		c.retries.Add(1)
	}
}

// addConnect counts an outgoing connection, new or reused.
func (c *trafficCounters) addConnect(reused bool) {
	if c == nil {
		return
	}
	if reused {
		c.reuse.Add(1)
	} else {
		c.connect.Add(1)
	}
}

// addIntercepted counts a request the frontend answered itself (stats).
func (c *trafficCounters) addIntercepted() {
	if c == nil {
		return
	}
	c.intercepted.Add(1)
}

// addTimes records a finished exchange's queue, connect, response and
// total times (HAProxy's Tq/Tc/Tr/Tt); a negative time is not recorded.
func (c *trafficCounters) addTimes(queue, connect, response, total time.Duration) {
	if c == nil {
		return
	}
	c.times.add(queue, connect, response, total)
}

// timeStats keeps HAProxy's swrate averages over timeSamples values and
// the maxima, in milliseconds.
type timeStats struct {
	mu  sync.Mutex
	n   uint64
	avg [4]uint64 // swrate sums
	max [4]uint64
}

// timeSamples is TIME_STATS_SAMPLES.
const timeSamples = 1024

func (t *timeStats) add(ds ...time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	for i, d := range ds {
		if d < 0 {
			continue
		}
		v := uint64(d / time.Millisecond)
		// swrate_add: sum = sum - sum/n + v
		t.avg[i] = t.avg[i] - t.avg[i]/timeSamples + v
		t.max[i] = max(t.max[i], v)
	}
}

// read returns the averages (swrate_avg over the samples seen, at most
// timeSamples) and the maxima.
func (t *timeStats) read() (avg, mx [4]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := uint64(timeSamples)
	if t.n > 0 && t.n < timeSamples {
		n = t.n
	}
	for i := range avg {
		avg[i] = int((t.avg[i] + n - 1) / n)
		mx[i] = int(t.max[i])
	}
	return avg, mx
}

// rateCounter counts events of the current and previous period of a
// second, for HAProxy's per-second rates and their maxima. As HAProxy's
// freq_ctr, the periods follow one another from the first event, not
// from the clock's seconds: two events less than a second apart after a
// quiet time count in one period.
type rateCounter struct {
	mu sync.Mutex
	// tick is when the current period began, in ms.
	tick      int64
	cur, prev int
	maxPerSec int
}

// add counts an event; it runs several times per request, hence no
// deferred unlock (a call more).
func (r *rateCounter) add(now time.Time) {
	ms := now.UnixMilli()
	r.mu.Lock()
	r.rotate(ms)
	r.cur++
	r.maxPerSec = max(r.maxPerSec, r.cur)
	r.mu.Unlock()
}

// rotate starts the next period once the current one is over, a new one
// at ms after a quiet period (update_freq_ctr_period).
func (r *rateCounter) rotate(ms int64) {
	if ms-r.tick < 1000 {
		return
	}
	r.prev, r.cur = r.cur, 0
	r.tick += 1000
	if ms-r.tick >= 1000 {
		r.prev, r.tick = 0, ms
	}
}

// read returns the events over the last second (read_freq_ctr's
// estimate) and the highest period seen.
func (r *rateCounter) read(now time.Time) (rate, maxRate int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.estimate(now)), r.maxPerSec
}

// readFloat is read_freq_ctr_flt: the estimate without rounding.
func (r *rateCounter) readFloat(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.estimate(now)
}

// estimate is freq_ctr_total over a second: the current period's events
// plus the share of the previous one's that the current one has not
// covered yet, and at most one event in the last period as it is (no
// flapping between 0 and 1); r.mu is held.
func (r *rateCounter) estimate(now time.Time) float64 {
	remain := r.tick + 1000 - now.UnixMilli()
	cur, past := r.cur, r.prev
	if remain < 0 {
		remain += 1000
		past = 0
		if remain >= 0 {
			past = cur
		}
		cur = 0
	}
	if cur == 0 && past <= 1 {
		return float64(past)
	}
	return float64(cur) + float64(past)*float64(remain)/1000
}

// traffic copies the counters into the snapshot's form.
func (c *trafficCounters) traffic(now time.Time) stats.Traffic {
	var v stats.Traffic
	if c == nil {
		v.LastSess = -1
		return v
	}
	v.BytesIn, v.BytesOut = c.bytesIn.Load(), c.bytesOut.Load()
	v.DeniedReq, v.DeniedResp = c.deniedReq.Load(), c.deniedResp.Load()
	v.FailedReq, v.FailedConns, v.FailedResp = c.failedReq.Load(), c.failedConns.Load(), c.failedResp.Load()
	v.Retries, v.Redispatches = c.retries.Load(), c.redispatches.Load()
	for i := range c.resp {
		v.Resp[i] = c.resp[i].Load()
	}
	v.Requests = c.requests.Load()
	v.CliAborts, v.SrvAborts = c.cliAborts.Load(), c.srvAborts.Load()
	v.Intercepted, v.FailedRewrites, v.Internal = c.intercepted.Load(), c.failedRewrites.Load(), c.internal.Load()
	v.Connect, v.Reuse = c.connect.Load(), c.reuse.Load()
	v.SplicedIn, v.SplicedOut = c.splicedIn.Load(), c.splicedOut.Load()
	v.SSL = c.ssl.load()
	v.H1 = c.h1.load()
	v.H2 = loadH2(&c.h2)
	v.Rate, v.RateMax = c.sessRate.read(now)
	v.ReqRate, v.ReqRateMax = c.reqRate.read(now)
	v.LastSess = -1
	if t := c.lastSess.Load(); t > 0 {
		v.LastSess = int(now.Unix() - t)
	}
	avg, mx := c.times.read()
	v.QTime, v.CTime, v.RTime, v.TTime = avg[0], avg[1], avg[2], avg[3]
	v.QTimeMax, v.CTimeMax, v.RTimeMax, v.TTimeMax = mx[0], mx[1], mx[2], mx[3]
	return v
}

// outSampler gives the process's bytes out per second as HAProxy's
// freq_ctr does (show info's BytesOutRate): this second's bytes plus the
// last second's, weighed by what is left of this one. The total is
// sampled once a second (Engine.sampleOut).
type outSampler struct {
	mu               sync.Mutex
	at               time.Time
	start, prevStart uint64
}

// tick starts a new period at now, the total being total.
func (o *outSampler) tick(now time.Time, total uint64) {
	o.mu.Lock()
	if now.Sub(o.at) >= 2*time.Second {
		// Idle for a period or more: nothing in the previous one.
		o.prevStart = total
	} else {
		o.prevStart = o.start
	}
	o.at, o.start = now, total
	o.mu.Unlock()
}

// rate is the estimate at now for total.
func (o *outSampler) rate(now time.Time, total uint64) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.at.IsZero() {
		return total
	}
	cur, prev := total-o.start, o.start-o.prevStart
	el := now.Sub(o.at)
	if el >= time.Second {
		// The sampler is late: this period is a whole one.
		if el >= 2*time.Second {
			return 0
		}
		return cur
	}
	left := float64(time.Second-el) / float64(time.Second)
	return cur + uint64(float64(prev)*left)
}
