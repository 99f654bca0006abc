package main

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gohap/gohap/runtime"
)

// -x: the listening sockets of an older process, fetched from its stats
// socket ("expose-fd listeners") with HAProxy's "_getsocks" exchange
// (src/sock.c sock_get_old_sockets), then used in place of new ones for
// the same addresses, so that no connection is refused in between.

// maxRecvFD is MAX_SEND_FD, and sockInfo the most a socket's
// description takes: namespace, interface name and 4 bytes.
const (
	maxRecvFD = 253
	sockInfo  = 1 + 4096 + 1 + 16 + 4
)

// fetchSockets asks the process behind the unix socket path for its
// listening sockets. The warning, when err is set, is HAProxy's.
func fetchSockets(path string) ([]*os.File, error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, errors.New("Failed to connect to the old process socket '" + path + "'")
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	countErr := errors.New("Failed to get the number of sockets to be transferred !")
	if _, err := io.WriteString(c, "_getsocks\n"); err != nil {
		return nil, countErr
	}
	var nb [4]byte
	if _, err := io.ReadFull(c, nb[:]); err != nil {
		return nil, countErr
	}
	want := int(int32(binary.NativeEndian.Uint32(nb[:])))
	if want <= 0 {
		return nil, nil
	}
	var files []*os.File
	fail := func(msg string) ([]*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, errors.New(msg)
	}
	var info []byte
	buf := make([]byte, maxRecvFD*sockInfo)
	oob := make([]byte, unix.CmsgSpace(maxRecvFD*4))
	for len(files) < want {
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil || n <= 0 {
			break
		}
		// Acknowledge, so that the sender goes on.
		binary.NativeEndian.PutUint32(nb[:], uint32(len(files)))
		c.Write(nb[:])
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err != nil {
				continue
			}
			for _, fd := range fds {
				files = append(files, os.NewFile(uintptr(fd), "old-socket"))
			}
		}
		if len(files) > want {
			return fail("Got to many sockets !")
		}
		info = append(info, buf[:n]...)
	}
	if len(files) != want {
		return fail("We didn't get the expected number of sockets (expecting " + strconv.Itoa(want) + " got " + strconv.Itoa(len(files)) + ")")
	}
	// Each socket's namespace and interface, which gohap does not bind
	// to, only have to be consistent.
	off := 0
	for range files {
		for k := 0; k < 2; k++ {
			if off >= len(info) || off+1+int(info[off]) > len(info) {
				return fail("Inconsistency while transferring sockets")
			}
			off += 1 + int(info[off])
		}
		if off += 4; off > len(info) {
			return fail("Inconsistency while transferring sockets")
		}
	}
	return files, nil
}

// inheritOld hands the fetched sockets that match a bind of g to the
// runtime, which uses them instead of binding; the others are closed.
func inheritOld(g *runtime.Graph, files []*os.File) {
	fds := map[string]int{}
	used := map[*os.File]bool{}
	for _, fe := range g.Frontends {
		for _, b := range fe.Binds {
			for _, f := range files {
				if !used[f] && runtime.SameUnixSocket(&b, f) {
					used[f] = true
					fds[b.Addr] = int(f.Fd())
					break
				}
			}
			want, ok := bindAddrPort(b.Addr)
			if !ok {
				continue
			}
			for _, f := range files {
				if used[f] {
					continue
				}
				if got, ok := listeningAddr(f); ok && sameBind(want, got) {
					used[f] = true
					fds[b.Addr] = int(f.Fd())
					break
				}
			}
		}
	}
	// The engine takes the descriptors: each file, whose finalizer would
	// close its descriptor at the next collection, gives up a copy.
	for addr, fd := range fds {
		if nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
			fds[addr] = nfd
		} else {
			delete(fds, addr)
		}
	}
	for _, f := range files {
		f.Close()
	}
	runtime.InheritListeners(fds)
}

// bindAddrPort reads a bind address; an unspecified address (":80",
// "*:80") has an invalid Addr.
func bindAddrPort(addr string) (netip.AddrPort, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.HasPrefix(addr, "fd@") {
		return netip.AddrPort{}, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	ip, _ := netip.ParseAddr(host)
	return netip.AddrPortFrom(ip.Unmap(), uint16(p)), true
}

// listeningAddr is the local address of a listening TCP socket.
func listeningAddr(f *os.File) (netip.AddrPort, bool) {
	fd := int(f.Fd())
	if n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || n == 0 {
		return netip.AddrPort{}, false
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, false
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), true
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port)), true
	}
	return netip.AddrPort{}, false
}

func sameBind(want, got netip.AddrPort) bool {
	if want.Port() != got.Port() {
		return false
	}
	if !want.Addr().IsValid() || want.Addr().IsUnspecified() {
		return got.Addr().IsUnspecified()
	}
	return want.Addr() == got.Addr()
}
