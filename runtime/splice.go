package runtime

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/parser"
)

// spliceOpts are a proxy's splicing options: option splice-request and
// splice-response. Option splice-auto alone splices no HTTP/1 body:
// HAProxy 2.6 never finds an HTTP stream a fast streamer (measured with
// fast and rate-limited 16 MiB answers), so neither does gohap.
type spliceOpts struct {
	req, rsp bool
}

func spliceOptions(p *parser.Proxy, opts Options) spliceOpts {
	if opts.NoSplice {
		return spliceOpts{}
	}
	return spliceOpts{req: p.Options["splice-request"], rsp: p.Options["splice-response"]}
}

// spliceMode says whether a direction's bodies are spliced, from the
// options of the stream's frontend and backend (either one enables it).
func spliceMode(fe, be spliceOpts, request bool) bool {
	if request {
		return fe.req || be.req
	}
	return fe.rsp || be.rsp
}

// kpipe is a kernel pipe that carries spliced data; n bytes are in it.
type kpipe struct {
	r, w, size, n int
}

// pipePool keeps the empty pipes for reuse, as HAProxy's pipes_live; a
// pipe left with data in it (a failed write) is closed instead.
var pipePool struct {
	sync.Mutex
	free []*kpipe
}

// pipesUsed counts the pipes in use and pipesFree those in the pool;
// pipeLimit (maxpipes) bounds both together, as HAProxy's get_pipe
// refuses a new one beyond it (the body is then copied); pipeSize is
// tune.pipesize.
var pipesUsed, pipesFree, pipeLimit, pipeSize atomic.Int64

// setPipeLimits applies maxpipes (0: no bound) and tune.pipesize (0:
// the kernel's size) to the pipes taken from now on.
func setPipeLimits(limit, size int) {
	pipeLimit.Store(int64(limit))
	pipeSize.Store(int64(size))
}

func getPipe() *kpipe {
	pipePool.Lock()
	if n := len(pipePool.free); n > 0 {
		p := pipePool.free[n-1]
		pipePool.free = pipePool.free[:n-1]
		pipesFree.Add(-1)
		pipesUsed.Add(1)
		pipePool.Unlock()
		return p
	}
	pipePool.Unlock()
	// get_pipe counts the new pipe before it compares: with maxpipes N
	// at most N-1 pipes exist.
	used := pipesUsed.Add(1)
	if l := pipeLimit.Load(); l > 0 && used+pipesFree.Load() >= l {
		pipesUsed.Add(-1)
		return nil
	}
	var fds [2]int
	if unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC) != nil {
		pipesUsed.Add(-1)
		return nil
	}
	if want := pipeSize.Load(); want > 0 {
		unix.FcntlInt(uintptr(fds[1]), unix.F_SETPIPE_SZ, int(want))
	}
	size, err := unix.FcntlInt(uintptr(fds[1]), unix.F_GETPIPE_SZ, 0)
	if err != nil || size <= 0 {
		size = 65536
	}
	return &kpipe{r: fds[0], w: fds[1], size: size}
}

func putPipe(p *kpipe) {
	if p.n == 0 {
		pipePool.Lock()
		pipePool.free = append(pipePool.free, p)
		pipesFree.Add(1)
		pipePool.Unlock()
		pipesUsed.Add(-1)
		return
	}
	pipesUsed.Add(-1)
	unix.Close(p.r)
	unix.Close(p.w)
}

// spliceState is a side's splicing state, kept in the side so that
// splicing allocates nothing per body.
type spliceState struct {
	// on: the body read from this side now may be spliced.
	on bool
	// h1 counts the bytes spliced in and out through this side, for its
	// proxy's h1 module statistics.
	h1 *trafficCounters
	// total is the engine's count of all spliced bytes out.
	total *atomic.Uint64
	p     *kpipe
	// want, got and err are the current splice call's.
	want, got   int
	err         error
	inFn, outFn func(fd uintptr) bool
}

// canSplice says whether the rest of a body can go from src to dst
// through a pipe: splicing is on for src, src's buffer is empty, both
// ends are plain TCP sockets, and nothing needs to see the data (cache,
// traces, a dropped request body).
func canSplice(src, dst *side) bool {
	if !src.sp.on || src.r != src.w || src.pending != nil || dst.discard || dst.tap != nil ||
		dst.trace != nil || src.trace != nil {
		return false
	}
	return plainTCP(src.c) && plainTCP(dst.c)
}

// plainTCP says whether c is a TCP socket the engine reads itself (not
// TLS, HTTP/2 or a socket pair).
func plainTCP(c netConn) bool {
	switch c.(type) {
	case *net.TCPConn, *sockConn, *cliConn:
		return true
	}
	return false
}

// spliceBody forwards the rest of a body from src to dst through a
// kernel pipe: *n bytes, counted down as they are read, or, with
// untilClose, everything until src closes. ok is false when no pipe
// could be had and nothing was moved: the caller copies in user space.
// Timeouts, errors and byte counts are those of copyLeft and
// copyUntilClose.
func spliceBody(src, dst *side, n *int64, untilClose bool) (err error, ok bool) {
	p := getPipe()
	if p == nil {
		return nil, false
	}
	defer putPipe(p)
	moved := false
	for untilClose || *n > 0 {
		want := p.size
		if !untilClose && int64(want) > *n {
			want = int(*n)
		}
		got, rerr := src.spliceIn(p, want)
		if rerr != nil {
			if !moved && rerr == unix.EINVAL {
				// The kernel cannot splice these sockets.
				return nil, false
			}
			if rerr == io.EOF && untilClose {
				return nil, true
			}
			return srcErr(rerr), true
		}
		moved = true
		if !untilClose {
			*n -= int64(got)
		}
		if werr := dst.spliceOut(p); werr != nil {
			return &bodyErr{err: werr}, true
		}
	}
	return nil, true
}

// spliceIn moves up to want bytes from the side's socket into the empty
// pipe p, waiting for them as fill does (read timeout, stop).
func (s *side) spliceIn(p *kpipe, want int) (int, error) {
	if err := s.raw(); err != nil {
		return 0, err
	}
	if s.timeout > 0 {
		s.c.SetReadDeadline(time.Now().Add(s.timeout))
	}
	if s.stop != nil && s.stop.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	sp := &s.sp
	if sp.inFn == nil {
		sp.inFn = s.rawSpliceIn
	}
	sp.p, sp.want, sp.got, sp.err = p, want, 0, nil
	err := s.rc.Read(sp.inFn)
	sp.p = nil
	if err != nil {
		return 0, err
	}
	if sp.err != nil {
		return 0, sp.err
	}
	if sp.got == 0 {
		return 0, io.EOF
	}
	got := sp.got
	p.n += got
	s.read += int64(got)
	s.rbytes += int64(got)
	s.moved()
	if sp.h1 != nil {
		sp.h1.splicedIn.Add(uint64(got))
	}
	return got, nil
}

func (s *side) rawSpliceIn(fd uintptr) bool {
	sp := &s.sp
	for {
		r, err := unix.Splice(int(fd), nil, sp.p.w, nil, sp.want, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch err {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		case nil:
			sp.got = int(r)
		default:
			sp.err = err
		}
		return true
	}
}

// spliceOut writes the whole pipe out to the side's socket, with the
// write timeout armed only while the socket is full, as writev does.
func (s *side) spliceOut(p *kpipe) error {
	if err := s.raw(); err != nil {
		return err
	}
	sp := &s.sp
	if sp.outFn == nil {
		sp.outFn = s.rawSpliceOut
	}
	sp.p = p
	err := s.writeWait(sp.outFn)
	sp.p = nil
	return err
}

func (s *side) rawSpliceOut(fd uintptr) bool {
	sp := &s.sp
	moved, full, err := sp.p.drainTo(int(fd), sp.h1, sp.total)
	s.wbytes += moved
	if s.procOut != nil {
		s.procOut.Add(uint64(moved))
	}
	s.moved()
	if full {
		s.armWrite()
		return false
	}
	if err != nil {
		s.sendErr = err
	}
	return true
}

// drainTo splices the pipe's bytes out to the socket fd until the pipe
// is empty, the socket is full (full) or it fails; out (when not nil)
// and total count the bytes moved.
func (p *kpipe) drainTo(fd int, out *trafficCounters, total *atomic.Uint64) (moved int64, full bool, err error) {
	for p.n > 0 {
		r, err := unix.Splice(p.r, nil, fd, nil, p.n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return moved, true, nil
		case err != nil:
			return moved, false, err
		case r == 0:
			return moved, false, io.ErrShortWrite
		}
		p.n -= int(r)
		moved += r
		if out != nil {
			out.splicedOut.Add(uint64(r))
		}
		if total != nil {
			total.Add(uint64(r))
		}
	}
	return moved, false, nil
}

// spliceSides sets the splice mode of the body about to be forwarded, a
// request's or a response's, and the counters the spliced bytes go to.
// The mode stays set on the client side for the rest of a request body
// sent after its answer (finishBody).
func (s *session) spliceSides(be *Backend, request bool) {
	src := &s.sv
	if request {
		src = &s.cl
	}
	src.sp.on = spliceMode(s.fe.splice, be.splice, request)
	if src.sp.on {
		s.cl.sp.h1, s.sv.sp.h1 = s.e.g.feCounters(s.fe), s.e.g.beCounters(be)
		s.cl.sp.total, s.sv.sp.total = &s.e.splicedOut, &s.e.splicedOut
	}
}

// setSplice makes a tunnel direction splice its data when on; in and
// out count the bytes spliced from its source and to its destination
// (nil when no h1 module sees them), total all spliced bytes out.
func (pp *pipe) setSplice(on bool, in, out *trafficCounters, total *atomic.Uint64) {
	if !on {
		return
	}
	rc, err := pp.dst.SyscallConn()
	if err != nil {
		return
	}
	pp.splice, pp.dstRC, pp.in, pp.out, pp.total = true, rc, in, out, total
	pp.outFn = pp.spliceOut
}

// take gets what a wake-up moves data through: a kernel pipe when the
// direction splices and one is free, else a buffer (returned).
func (pp *pipe) take() *[]byte {
	if pp.splice {
		if pp.kp = getPipe(); pp.kp != nil {
			return nil
		}
	}
	bp := getBuf()
	pp.buf = *bp
	return bp
}

// release gives back what take got.
func (pp *pipe) release(bp *[]byte) {
	if pp.kp != nil {
		putPipe(pp.kp)
		pp.kp = nil
		return
	}
	pp.buf = nil
	putBuf(bp)
}

// spliceIn is the tunnel read when splicing: the source's data goes
// into the empty pipe.
func (pp *pipe) spliceIn(fd uintptr) {
	for {
		r, err := unix.Splice(int(fd), nil, pp.kp.w, nil, pp.kp.size, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		if err == unix.EINTR {
			continue
		}
		pp.n, pp.rdErr = int(r), err
		if pp.n < 0 {
			pp.n = 0
		}
		if pp.n > 0 {
			pp.kp.n += pp.n
			if pp.in != nil {
				pp.in.splicedIn.Add(uint64(pp.n))
			}
		}
		return
	}
}

// forward writes the n bytes just read to the destination: from the
// pipe, or from the buffer through the trace filters if any.
func (pp *pipe) forward(n int) error {
	if pp.kp == nil {
		return pp.t.write(pp.fromClient, pp.dst, pp.buf[:n])
	}
	pp.wrErr = nil
	if err := pp.dstRC.Write(pp.outFn); err != nil {
		return err
	}
	return pp.wrErr
}

func (pp *pipe) spliceOut(fd uintptr) bool {
	_, full, err := pp.kp.drainTo(int(fd), pp.out, pp.total)
	if full {
		return false
	}
	if err != nil {
		pp.wrErr = err
	}
	return true
}
