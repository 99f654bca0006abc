package stats

import (
	"encoding/binary"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// FDSource is what a Source implements to hand its listening sockets
// over ("_getsocks").
type FDSource interface {
	// ListeningFiles returns duplicates of the listening sockets, which
	// the caller closes.
	ListeningFiles() []*os.File
}

// maxSendFD is MAX_SEND_FD: descriptors per message.
const maxSendFD = 253

// getSocks is "_getsocks" (HAProxy's src/cli.c): on a socket with
// "expose-fd listeners", the number of listening sockets as a native
// int, then the sockets, maxSendFD per message, each message waiting for
// the receiver's 4-byte acknowledgement of the previous one. Every
// socket carries 6 bytes: no namespace, no interface, and 4 zero bytes.
// The connection then closes, with nothing sent on failure.
func (ss *session) getSocks([]string) bool {
	uc, ok := ss.conn.(*net.UnixConn)
	src, ok2 := ss.srv.src.(FDSource)
	if !ok || !ok2 || !ss.expose {
		return true
	}
	files := src.ListeningFiles()
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if len(files) == 0 {
		return true
	}
	uc.SetDeadline(time.Now().Add(10 * time.Second))
	var n [4]byte
	binary.NativeEndian.PutUint32(n[:], uint32(len(files)))
	if _, err := uc.Write(n[:]); err != nil {
		return true
	}
	for i := 0; i < len(files); i += maxSendFD {
		batch := files[i:min(i+maxSendFD, len(files))]
		fds := make([]int, 0, len(batch))
		for _, f := range batch {
			fds = append(fds, rawFD(f))
		}
		if i > 0 {
			// The receiver acknowledges each message.
			if _, err := uc.Read(n[:]); err != nil {
				return true
			}
		}
		if _, _, err := uc.WriteMsgUnix(make([]byte, 6*len(batch)), unix.UnixRights(fds...), nil); err != nil {
			return true
		}
	}
	return true
}

// rawFD is f's descriptor, open until f is closed. Not f.Fd(): for a
// socket's File, Fd puts the socket in blocking mode, and the mode is
// the open socket's, shared with this process's listener, whose next
// accept would then block in the kernel, and the close of a soft stop
// would wait for a connection to come.
func rawFD(f *os.File) int {
	fd := -1
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(u uintptr) { fd = int(u) })
	}
	return fd
}
