// Package freeport hands out loopback addresses for the processes the
// tests and demos start, each address once per process.
package freeport

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"sync"
)

var (
	mu   sync.Mutex
	used = map[int]bool{}
)

// Addr returns a 127.0.0.1 address that was free a moment ago. Ports
// come from below the kernel's ephemeral range (32768-60999): a port
// found free there may be taken, before the process under test binds it,
// by an outgoing connection or by a listener on port 0.
func Addr() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < 1000; i++ {
		p := 20000 + rand.Intn(12000)
		if used[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		used[p] = true
		return ln.Addr().String(), nil
	}
	return "", errors.New("no free port")
}
