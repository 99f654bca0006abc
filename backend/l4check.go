package backend

import (
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// plainL4 says the check is a bare TCP connect: nothing is sent or read,
// through no proxy, from no chosen source.
func (s *Server) plainL4() bool {
	c := &s.Check
	return c.HTTP == nil && c.TCP == nil && c.Proto == nil && c.TLS == nil && c.Mux == nil &&
		!c.SendProxy && !c.ViaSocks4 && s.Source == nil
}

// connectOnly runs a bare TCP connect check as HAProxy's does: the
// connection is reset as soon as it is made, with no trip through the
// scheduler when the connect completes at once (a local server). ok is
// false for an address it does not handle (not a literal IP and port).
func connectOnly(addr string, timeout time.Duration, ns *NetNS, opts SockOpts) (report string, ok bool) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || ap.Addr().Zone() != "" {
		return "", false
	}
	a := ap.Addr().Unmap()
	var rsa unix.RawSockaddrAny
	var salen uintptr
	family := unix.AF_INET
	if a.Is4() {
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(&rsa))
		p.Family, p.Addr = unix.AF_INET, a.As4()
		netPort(&p.Port, ap.Port())
		salen = unsafe.Sizeof(*p)
	} else {
		family = unix.AF_INET6
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(&rsa))
		p.Family, p.Addr = unix.AF_INET6, a.As16()
		netPort(&p.Port, ap.Port())
		salen = unsafe.Sizeof(*p)
	}
	var fd int
	if ns != nil {
		fd, err = ns.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	} else {
		fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	}
	if err != nil {
		return l4Report(err), true
	}
	// As HAProxy's checks (tcp-smart-connect): the handshake's last ACK
	// waits for data, and a connect check sends none, so a server sees
	// no connection to accept before the reset.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0)
	opts.Set(fd)
	var e syscall.Errno
	for {
		_, _, e = unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), salen)
		if e != unix.EINTR {
			break
		}
	}
	reset := func() {
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	}
	if e == 0 || e == unix.EINPROGRESS {
		if _, err := unix.Getpeername(fd); err == nil {
			reset()
			unix.Close(fd)
			return "Layer4 check passed", true
		}
	}
	if e != 0 && e != unix.EINPROGRESS {
		unix.Close(fd)
		return l4Report(e), true
	}
	// Still connecting: the runtime's poller waits for it.
	f := os.NewFile(uintptr(fd), "")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return l4Report(err), true
	}
	f.SetWriteDeadline(time.Now().Add(timeout))
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && n != 0 {
			err = unix.Errno(n)
		}
		if err != nil {
			cerr = err
			return true
		}
		if _, err := unix.Getpeername(int(fd)); err != nil {
			return false
		}
		return true
	})
	if werr != nil {
		return "Layer4 timeout", true
	}
	if cerr != nil {
		return l4Report(cerr), true
	}
	rc.Control(func(fd uintptr) {
		unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	})
	return "Layer4 check passed", true
}

// l4Report is the report of a connect that failed.
func l4Report(err error) string {
	var errno syscall.Errno
	switch e := err.(type) {
	case syscall.Errno:
		errno = e
	case *os.SyscallError:
		errno, _ = e.Err.(syscall.Errno)
	}
	switch errno {
	case unix.ECONNREFUSED:
		return `Layer4 connection problem, info: "Connection refused"`
	case 0:
		return `Layer4 connection problem, info: "General socket error"`
	}
	return `Layer4 connection problem, info: "General socket error (` + strerror(errno) + `)"`
}

// netPort stores a port in network byte order.
func netPort(dst *uint16, port uint16) {
	*(*[2]byte)(unsafe.Pointer(dst)) = [2]byte{byte(port >> 8), byte(port)}
}
