package runtime

import (
	"os"
	_ "unsafe" // go:linkname
)

// newSockFile makes an os.File, watched by the runtime's poller, of a
// socket known to be non-blocking. os.NewFile would first ask the kernel
// for the descriptor's flags (fcntl F_GETFL), one system call per server
// connection; this is the entry point net uses for its own sockets.
//
//go:linkname newSockFile net.newUnixFile
func newSockFile(fd int, name string) *os.File
