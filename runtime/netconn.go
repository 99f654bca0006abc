package runtime

import (
	"net"
	"syscall"
)

// netConn is a socket the engine reads and writes through its file
// descriptor: a TCP connection, or the engine's end of a socket pair
// whose other end a TLS or HTTP/2 layer drives.
type netConn interface {
	net.Conn
	SyscallConn() (syscall.RawConn, error)
	CloseWrite() error
	CloseRead() error
}

// setLinger0 makes Close reset a TCP connection instead of draining it.
func setLinger0(c netConn) {
	if t := tcpOf(c); t != nil {
		t.SetLinger(0)
	}
}
