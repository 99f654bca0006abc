package backend

import (
	"context"
	"net"
	goruntime "runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// NetNS is an open network namespace ("namespace NAME" on binds and
// servers): /var/run/netns/NAME, opened once while the configuration is
// read, as HAProxy opens it, so that a later chroot does not matter.
type NetNS struct {
	Name string
	fd   int
}

var (
	netnsMu sync.Mutex
	netns   = map[string]*NetNS{}
	// homeNS is the namespace the process started in, where each switch
	// returns.
	homeNS = sync.OnceValues(func() (int, error) {
		return unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	})
)

// OpenNetNS opens (once) the named network namespace.
func OpenNetNS(name string) (*NetNS, error) {
	netnsMu.Lock()
	defer netnsMu.Unlock()
	if ns := netns[name]; ns != nil {
		return ns, nil
	}
	if _, err := homeNS(); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/var/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ns := &NetNS{Name: name, fd: fd}
	netns[name] = ns
	return ns, nil
}

// Do runs f with the calling thread in the namespace: the sockets f
// creates belong to it. A goroutine of its own locks a thread for the
// switch; should the way back fail, that thread is thrown away with it.
func (ns *NetNS) Do(f func()) error {
	home, err := homeNS()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			goruntime.UnlockOSThread()
			errc <- err
			return
		}
		f()
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			goruntime.UnlockOSThread()
		}
		errc <- nil
	}()
	return <-errc
}

// Socket makes a socket in the namespace.
func (ns *NetNS) Socket(family, typ int) (fd int, err error) {
	if derr := ns.Do(func() { fd, err = unix.Socket(family, typ, 0) }); derr != nil {
		return -1, derr
	}
	return fd, err
}

// DialIn is Dial from within ns when there is one.
func DialIn(ctx context.Context, ns *NetNS, d *net.Dialer, addr string) (c net.Conn, err error) {
	if ns == nil {
		return Dial(ctx, d, addr)
	}
	if derr := ns.Do(func() { c, err = Dial(ctx, d, addr) }); derr != nil {
		return nil, derr
	}
	return c, err
}
