package h2

import (
	goruntime "runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Admission of streams to the engine. A stream that starts takes a
// session, a worker and its stack, which it touches again when its
// server answers. Started as soon as their HEADERS arrive, the streams of
// a process whose CPU is the bottleneck pile up between their request
// and their answer: under h2load -c 100 -m 10 a thousand of them, whose
// state has left the CPU's caches by the time each is taken up again, so
// that each stream costs more the more there are. HAProxy keeps little
// per waiting stream.
//
// So, while the CPU is busy (goroutines wait for it: saturated) and
// runLimit streams are at work, a new stream waits in pending, a stream
// and its head only, and the next stream to finish hands its worker to
// the one that waited longest. A process with CPU to spare starts every
// stream at once, as before. A stream waiting for its server or its
// client (IOWait: a read, a window, a connect, a queue) through
// longWaitTicks checks no longer counts, so that slow servers never hold
// the admissions of a busy process. Should nothing finish nor wait for
// runPatience while streams are pending, with every stream admitted
// begun (streams that wait where IOWait does not see it, such as a
// tarpit or a tunnel), the streams counted so far are forgotten (a new
// generation) and the pending ones start.

// runLimit is the number of streams at work past which new ones wait
// when the CPU is busy. At 32 the work in progress fits the caches
// (simulated L2 misses per stream under -c 100 -m 10: 398 started at
// once, 170 with the limit).
const runLimit = 32

// runPatience is the period of the check that runs while streams are
// pending. A wait is long, and its stream no longer counts, once that
// check has run longWaitTicks times since it began (so for one to two
// periods, and a wait that began in the period before is progress): the
// waits are dated by the checks' count, not read from the clock (two
// vDSO calls, for every wait of every stream).
var runPatience = time.Millisecond

const longWaitTicks = 2

// runState is a stream's part in the count, under idleMu.
type runState struct {
	gen     uint32
	counted bool // in running, for generation gen
	// active is set from admission to the end of the stream's work:
	// only then do IOWait and IOReady count.
	active   bool
	waiting  bool // in IOWait, since check number waitTick
	waitTick uint64
	// listed says the stream is in the waits list, prev and next its
	// neighbours there: a wait not yet long.
	listed     bool
	prev, next *Stream
}

var (
	// running is the number of streams at work, of generation runGen.
	running int
	runGen  uint32
	// pending are the streams waiting for admission, oldest first from
	// pendHead.
	pending  []*Stream
	pendHead int
	// waits lists the streams in IOWait, oldest first, until tick
	// finds their wait long.
	waitHead, waitTail *Stream
	// progress counts the streams that finished or began to wait, and
	// patience is the timer that runs tick while streams are pending
	// (armedAt: progress when it was armed); ticks counts its runs.
	progress uint64
	ticks    uint64
	patience *time.Timer
	armed    bool
	armedAt  uint64
	// stalls counts the times tick gave way to streams stuck at work.
	stalls int
)

// unstarted counts the streams admitted whose worker has not yet begun
// (starting): while some wait for the CPU, that nothing progresses says
// the process is busy, not that the streams at work are stuck.
var unstarted atomic.Int32

// starting says a worker has begun on an admitted stream.
func starting() { unstarted.Add(-1) }

// saturated reports goroutines waiting for the CPU, more than a few per
// processor: new streams would only add to the work in progress. A
// variable, under idleMu, for the tests.
var saturated = cpuBusy

// cpuBusy is saturated from the runtime's count of runnable goroutines.
// A reading takes scheduler locks and looks the metric up by name (1% of
// the CPU under h2load -c 20 -m 10, where it ran for every stream), so
// one reading serves busyEvery decisions, all under idleMu.
func cpuBusy() bool {
	if busyCalls++; busyCalls < busyEvery {
		return busyLast
	}
	busyCalls = 0
	s := runnableSample[:]
	metrics.Read(s)
	busyLast = s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() >= uint64(4*goruntime.GOMAXPROCS(0))
	return busyLast
}

const busyEvery = 8

var (
	runnableSample = [1]metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	// busyCalls counts the decisions since the last reading, busyLast.
	busyCalls = busyEvery - 1
	busyLast  bool
)

// roomLocked says a stream may start now.
func roomLocked() bool { return running < runLimit || !saturated() }

// admit starts st, or has it wait for a stream at work to finish.
func admit(st *Stream) {
	idleMu.Lock()
	if pendHead == len(pending) && roomLocked() {
		countLocked(st)
		dispatchLocked(st)
	} else {
		pending = append(pending, st)
		startPendingLocked()
		if pendHead < len(pending) {
			armLocked()
		}
	}
	idleMu.Unlock()
}

func countLocked(st *Stream) {
	if !st.run.active {
		unstarted.Add(1)
	}
	st.run.counted, st.run.gen, st.run.active = true, runGen, true
	running++
}

func uncountLocked(st *Stream) {
	if st.run.counted && st.run.gen == runGen {
		running--
	}
	st.run.counted = false
	progress++
}

// nextPendingLocked takes the stream that waited longest, counted, if
// one waits and there is room: the caller runs it.
func nextPendingLocked() *Stream {
	if pendHead == len(pending) || !roomLocked() {
		return nil
	}
	st := pending[pendHead]
	pending[pendHead] = nil
	pendHead++
	if pendHead == len(pending) {
		pending, pendHead = pending[:0], 0
	}
	countLocked(st)
	return st
}

// startPendingLocked starts the pending streams there is room for, on
// workers of their own.
func startPendingLocked() {
	for {
		st := nextPendingLocked()
		if st == nil {
			return
		}
		dispatchLocked(st)
	}
}

// finished gives up the admission of a stream whose work has ended. The
// worker that ran it takes the next pending stream itself.
func finished(st *Stream) {
	idleMu.Lock()
	st.run.waiting = false
	unlinkLocked(st)
	uncountLocked(st)
	st.run.active = false
	idleMu.Unlock()
}

// IOWait says the stream's goroutine is about to wait for its server or
// its client; IOReady says it is back. The two come in pairs.
func (st *Stream) IOWait() {
	idleMu.Lock()
	if st.run.active && !st.run.waiting {
		st.run.waiting, st.run.waitTick = true, ticks
		st.run.listed, st.run.prev, st.run.next = true, waitTail, nil
		if waitTail != nil {
			waitTail.run.next = st
		} else {
			waitHead = st
		}
		waitTail = st
		progress++
	}
	idleMu.Unlock()
}

// IOReady ends IOWait: a stream its long wait had taken out of the count
// is counted again.
func (st *Stream) IOReady() {
	idleMu.Lock()
	if st.run.active && st.run.waiting {
		st.run.waiting = false
		unlinkLocked(st)
		if !st.run.counted || st.run.gen != runGen {
			countLocked(st)
		}
	}
	idleMu.Unlock()
}

func unlinkLocked(st *Stream) {
	if !st.run.listed {
		return
	}
	st.run.listed = false
	if p := st.run.prev; p != nil {
		p.run.next = st.run.next
	} else {
		waitHead = st.run.next
	}
	if n := st.run.next; n != nil {
		n.run.prev = st.run.prev
	} else {
		waitTail = st.run.prev
	}
	st.run.prev, st.run.next = nil, nil
}

func armLocked() {
	if armed {
		return
	}
	armed, armedAt = true, progress
	if patience == nil {
		patience = time.AfterFunc(runPatience, tick)
	} else {
		patience.Reset(runPatience)
	}
}

// tick runs every runPatience while streams are pending: the streams
// waiting through longWaitTicks of its runs stop counting; if nothing
// finished nor waited meanwhile and every admitted stream has begun, the
// streams at work are forgotten; then the pending streams there is room
// for start.
func tick() {
	idleMu.Lock()
	defer idleMu.Unlock()
	armed = false
	if pendHead == len(pending) {
		return
	}
	ticks++
	for st := waitHead; st != nil && ticks-st.run.waitTick >= longWaitTicks; st = waitHead {
		unlinkLocked(st)
		if st.run.counted {
			uncountLocked(st)
		}
	}
	if progress == armedAt && unstarted.Load() == 0 {
		runGen++
		running = 0
		stalls++
	}
	startPendingLocked()
	if pendHead < len(pending) {
		armLocked()
	}
}

// stallCount is the number of times pending streams started because the
// streams at work neither finished nor waited for runPatience.
func stallCount() int {
	idleMu.Lock()
	defer idleMu.Unlock()
	return stalls
}
