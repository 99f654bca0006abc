package runtime

import (
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/gohap/gohap/runtime/h2"
)

// quietTick is how often the engine looks for the end of a burst.
const quietTick = 500 * time.Millisecond

// freeOSMemory, when set, replaces debug.FreeOSMemory (tests).
var freeOSMemory atomic.Pointer[func(*Engine)]

// quietMinAlloc is what the process must have allocated since the last
// collection quietGC made for the next to be worth it: a trickle (a
// monitor polling the stats page every few seconds) leaves little to
// hand back, and each collection costs a full cycle and the page faults
// of the next burst.
var quietMinAlloc atomic.Uint64

func init() { quietMinAlloc.Store(1 << 20) }

// quietGC hands the memory a burst of traffic left behind back to the
// system once the traffic stops: one tick with connections or requests,
// then one without. HAProxy frees what a connection used when it ends;
// the collector frees it at its next cycle, which a process that went
// quiet may not reach for minutes, its resident size still that of the
// burst (handshakes' garbage, above all) however few connections stay.
// Under steady traffic it never runs, nor after a trickle that allocated
// less than quietMinAlloc since its last collection.
func (e *Engine) quietGC() {
	t := time.NewTicker(quietTick)
	defer t.Stop()
	var w quietWatch
	w.tick(e.activity())
	last := heapAllocs()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
		}
		if !w.tick(e.activity()) || !gcOn() {
			continue
		}
		if n := heapAllocs(); n-last < quietMinAlloc.Load() {
			continue
		}
		// The stacks of the goroutines that served HTTP/2 streams, one
		// per stream in flight at the burst's peak.
		h2.TrimWorkers(0)
		if f := freeOSMemory.Load(); f != nil {
			(*f)(e)
		} else {
			debug.FreeOSMemory()
		}
		last = heapAllocs()
	}
}

// heapAllocs is the bytes the process allocated since it started.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// activity counts the connections and requests the frontends took.
func (e *Engine) activity() uint64 {
	e.mu.Lock()
	lns := e.listeners
	e.mu.Unlock()
	var n uint64
	for _, l := range lns {
		n += uint64(l.fe.accepted.Load())
		// None when the graph was built without stats.
		if c := e.g.feCounters(l.fe); c != nil {
			n += c.requests.Load()
		}
	}
	return n
}

// quietWatch finds the first quiet tick after a busy one.
type quietWatch struct {
	last uint64
	busy bool
}

// tick takes the activity count of a tick and reports whether the
// traffic just stopped.
func (w *quietWatch) tick(n uint64) bool {
	changed := n != w.last
	w.last = n
	if changed {
		w.busy = true
		return false
	}
	stopped := w.busy
	w.busy = false
	return stopped
}

// gcOn is false when the collector was turned off (GOGC=off, which the
// metric reads as -1).
func gcOn() bool {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Kind() != metrics.KindUint64 || int64(s[0].Value.Uint64()) > 0
}
