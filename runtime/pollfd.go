package runtime

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

// The runtime's poller, as internal/poll drives it for os.File and net.
//
//go:linkname pollServerInit internal/poll.runtime_pollServerInit
func pollServerInit()

//go:linkname pollOpen internal/poll.runtime_pollOpen
func pollOpen(fd uintptr) (uintptr, int)

//go:linkname pollClose internal/poll.runtime_pollClose
func pollClose(ctx uintptr)

//go:linkname pollWait internal/poll.runtime_pollWait
func pollWait(ctx uintptr, mode int) int

//go:linkname pollReset internal/poll.runtime_pollReset
func pollReset(ctx uintptr, mode int) int

//go:linkname pollSetDeadline internal/poll.runtime_pollSetDeadline
func pollSetDeadline(ctx uintptr, d int64, mode int)

//go:linkname pollUnblock internal/poll.runtime_pollUnblock
func pollUnblock(ctx uintptr)

// The poller's answers (runtime/netpoll.go).
const (
	pollErrClosing = 1
	pollErrTimeout = 2
)

var pollInit sync.Once

// pollFD is a non-blocking socket watched by the runtime's poller: what
// an os.File of it does for the engine (raw reads and writes that wait
// for readiness, deadlines, a Close that wakes the waiters), without
// the file's two allocations, its finalizer and the flags query of
// os.NewFile, which together cost some 2,500 instructions per server
// connection. It lives inside the sockConn that uses it.
//
// state counts the calls in progress on the descriptor; Close marks it
// closing, wakes the waiters, and the last call out (or Close itself)
// removes it from the poller and closes it. Close returns once it is
// closed, as os.File's does. rmu and wmu keep one reader and one writer
// at a time: the poller has one waiter per direction.
type pollFD struct {
	fd       int
	pd       uintptr
	state    fdCalls
	shut     atomic.Bool // the descriptor is closed
	rmu, wmu sync.Mutex
	// lazy owns the descriptor when the pollFD is its registration: the
	// last of its calls closes it, not destroy.
	lazy *lazyFD
}

// open registers fd with the poller.
func (p *pollFD) open(fd int) error {
	pollInit.Do(pollServerInit)
	pd, errno := pollOpen(uintptr(fd))
	if errno != 0 {
		return os.NewSyscallError("epoll_ctl", syscall.Errno(errno))
	}
	p.fd, p.pd = fd, pd
	return nil
}

func (p *pollFD) acquire() bool { return p.state.acquire() }

func (p *pollFD) release() {
	if p.state.release() {
		p.destroy()
	}
}

// destroy takes the descriptor off the poller and closes it, or hands
// it back to the lazyFD that owns it.
func (p *pollFD) destroy() {
	pollClose(p.pd)
	if p.lazy != nil {
		p.lazy.release()
	} else {
		closeFD(p.fd)
	}
	p.shut.Store(true)
}

func (p *pollFD) Close() error {
	// The close counts as a call until the waiters are woken: a call
	// that ends meanwhile must not take the descriptor off the poller
	// before pollUnblock (the runtime throws), as internal/poll's Close
	// holds a reference across its evict.
	if !p.state.closeHeld() {
		return os.ErrClosed
	}
	pollUnblock(p.pd)
	p.release()
	// Woken, the calls in progress end at once; the last closes.
	for i := 0; !p.shut.Load(); i++ {
		if i < 100 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
	return nil
}

// pollErr is the error of a poller answer, as internal/poll gives it.
func pollErr(code int) error {
	if code == pollErrTimeout {
		return os.ErrDeadlineExceeded
	}
	return os.ErrClosed
}

func (p *pollFD) Control(fn func(fd uintptr)) error {
	if !p.acquire() {
		return os.ErrClosed
	}
	defer p.release()
	fn(uintptr(p.fd))
	return nil
}

func (p *pollFD) Read(fn func(fd uintptr) bool) error {
	return p.wait(&p.rmu, 'r', fn)
}

func (p *pollFD) Write(fn func(fd uintptr) bool) error {
	return p.wait(&p.wmu, 'w', fn)
}

// wait calls fn until it reports done, waiting for the descriptor to be
// ready for mode in between, as poll.FD's RawRead and RawWrite do.
func (p *pollFD) wait(mu *sync.Mutex, mode int, fn func(fd uintptr) bool) error {
	mu.Lock()
	defer mu.Unlock()
	if !p.acquire() {
		return os.ErrClosed
	}
	defer p.release()
	if code := pollReset(p.pd, mode); code != 0 {
		return pollErr(code)
	}
	for !fn(uintptr(p.fd)) {
		if code := pollWait(p.pd, mode); code != 0 {
			return pollErr(code)
		}
	}
	return nil
}

func (p *pollFD) SetReadDeadline(t time.Time) error  { return p.setDeadline(t, 'r') }
func (p *pollFD) SetWriteDeadline(t time.Time) error { return p.setDeadline(t, 'w') }

// setDeadline arms the poller's timer for mode, as poll.FD does: a
// duration from now, -1 for one already past, 0 for none.
func (p *pollFD) setDeadline(t time.Time, mode int) error {
	var d int64
	if !t.IsZero() {
		if d = int64(time.Until(t)); d == 0 {
			d = -1
		}
	}
	if !p.acquire() {
		return os.ErrClosed
	}
	defer p.release()
	pollSetDeadline(p.pd, d, mode)
	return nil
}

// closeFD closes a socket without telling the scheduler (RawSyscall):
// the engine never sets a lingering close with a timeout, so close
// returns at once. A call that enters the scheduler's system-call state
// wakes the runtime's monitor thread when every processor was idle,
// which then polls every 20 us for a millisecond or more: on a proxy
// that idles between connections, a wake-up per connection.
func closeFD(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// dupFD duplicates a descriptor (close-on-exec) as closeFD closes one.
func dupFD(fd int) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_FCNTL, uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
