// Package freeport hands out loopback addresses for the processes the
// tests and demos start, each address once per process and, while the
// process lives, to no other process that uses this package.
package freeport

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu   sync.Mutex
	used = map[int]bool{}
	// claims is a file shared by the processes using this package: a
	// write lock on byte p of it claims port p until the process ends.
	// Test binaries run side by side (go test runs packages at once);
	// a port found free by two of them would be bound by both, with
	// SO_REUSEPORT, and each would get some of the other's clients.
	claims     *os.File
	claimsOnce sync.Once
)

func claimFile() *os.File {
	claimsOnce.Do(func() {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "gohap-freeport.lock"), os.O_RDWR|os.O_CREATE, 0o666)
		if err == nil {
			claims = f
		}
	})
	return claims
}

// claim takes port p for this process; false when another holds it.
func claim(p int) bool {
	f := claimFile()
	if f == nil {
		return true
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: int64(p), Len: 1}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk) == nil
}

// Addr returns a 127.0.0.1 address that was free a moment ago. Ports
// come from below the kernel's ephemeral range (32768-60999): a port
// found free there may be taken, before the process under test binds it,
// by an outgoing connection or by a listener on port 0.
func Addr() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < 1000; i++ {
		p := 20000 + rand.Intn(12000)
		if used[p] || !claim(p) {
			continue
		}
		used[p] = true
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return ln.Addr().String(), nil
	}
	return "", errors.New("no free port")
}
