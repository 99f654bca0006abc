package backend

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Server addresses on unix sockets: "unix@PATH", "abns@NAME" and
// "sockpair@FD" (a socket pair a new connection's other end is sent
// over, as src/proto_sockpair.c connects), the others being TCP.

// sunPath is the size of sockaddr_un's sun_path.
const sunPath = 108

// AbstractName is the Go name of the abstract socket HAProxy binds for
// "abns@name": the name after a NUL, padded with NULs to the whole of
// sun_path, which is part of the address.
func AbstractName(name string) string {
	b := make([]byte, sunPath)
	b[0] = '@'
	copy(b[1:], name)
	return string(b)
}

// DialTarget is the network and address to dial for a server address.
func DialTarget(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix@"); ok {
		return "unix", p
	}
	if n, ok := strings.CutPrefix(addr, "abns@"); ok {
		return "unix", AbstractName(n)
	}
	return "tcp", addr
}

// Dial connects to a server address with d.
func Dial(ctx context.Context, d *net.Dialer, addr string) (net.Conn, error) {
	if n, ok := strings.CutPrefix(addr, "sockpair@"); ok {
		fd, err := strconv.Atoi(n)
		if err != nil {
			return nil, unix.EBADF
		}
		return dialPair(fd)
	}
	network, a := DialTarget(addr)
	return d.DialContext(ctx, network, a)
}

// dialPair makes a socket pair, sends one end over descriptor fd, and
// returns the other.
func dialPair(fd int) (net.Conn, error) {
	sv, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(sv[0])
	if err := unix.Sendmsg(fd, make([]byte, 2), unix.UnixRights(sv[0]), nil, 0); err != nil {
		unix.Close(sv[1])
		return nil, err
	}
	f := os.NewFile(uintptr(sv[1]), "sockpair")
	defer f.Close()
	return net.FileConn(f)
}
