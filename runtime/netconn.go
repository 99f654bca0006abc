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
	} else if t := sockOf(c); t != nil {
		t.setLinger0()
	}
}

// resetClose closes a server connection whose exchange is over with a
// reset, as HAProxy closes the connections it opened (FD_LINGER_RISK):
// the local port is free again at once instead of spending a minute in
// TIME_WAIT, which under a stream of new connections fills the port
// range and makes every connect() search it.
func resetClose(c netConn) {
	setLinger0(c)
	c.Close()
}
