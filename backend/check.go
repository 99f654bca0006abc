package backend

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// Check holds a server's health-check settings (HAProxy defaults: inter
// 2s, rise 2, fall 3).
type Check struct {
	Enabled bool
	Inter   time.Duration
	Rise    int
	Fall    int
	// Timeout bounds one check; zero uses Inter.
	Timeout time.Duration
	Addr    string
}

// RunChecks runs the TCP-connect health checks of every server with
// "check" until ctx is done. Servers start UP, as HAProxy's do, and go
// DOWN after Fall consecutive failures, back UP after Rise successes.
func (b *Backend) RunChecks(ctx context.Context) {
	for _, s := range b.Servers {
		if s.Check.Enabled {
			go s.checkLoop(ctx)
		}
	}
}

func (s *Server) checkLoop(ctx context.Context) {
	c := s.Check
	health := c.Rise // HAProxy starts a checked server UP with full health
	t := time.NewTimer(c.Inter)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		reason, ok := s.probe(ctx)
		dur := time.Since(start)
		if ctx.Err() != nil {
			return
		}
		// HAProxy's health counter: UP while health >= rise, from rise
		// to rise+fall-1 failures only consume margin.
		if ok {
			if health < c.Rise+c.Fall-1 {
				health++
				if health == c.Rise && s.State() == Down {
					s.setState(Up, "Layer4 check passed, check duration: "+ms(dur)+".")
				}
			}
		} else if health > c.Rise {
			health--
		} else {
			health = 0
			if s.State() == Up {
				s.setState(Down, reason+", check duration: "+ms(dur)+".")
			}
		}
		t.Reset(c.Inter)
	}
}

func ms(d time.Duration) string {
	return itoa(int(d/time.Millisecond)) + "ms"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

func (s *Server) probe(ctx context.Context) (string, bool) {
	timeout := s.Check.Timeout
	if timeout == 0 {
		timeout = s.Check.Inter
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := s.Check.Addr
	if addr == "" {
		addr = s.Addr
	}
	var d net.Dialer
	conn, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return `Layer4 connection problem, info: "Connection refused"`, false
		case errors.Is(err, context.DeadlineExceeded) || cctx.Err() != nil:
			return "Layer4 timeout", false
		default:
			return `Layer4 connection problem, info: "General socket error"`, false
		}
	}
	conn.Close()
	return "", true
}
