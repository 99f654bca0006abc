package backend

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sequence(t *testing.T, b *Backend, n int, k func(i int) Key) string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		key := Key{}
		if k != nil {
			key = k(i)
		}
		s, err := b.AcquireKey(context.Background(), 0, key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s.Name)
		b.Release(s)
	}
	return strings.Join(out, "")
}

// The orders below are HAProxy 2.6's, observed on the same weights.
func TestRoundRobinOrderMatchesHAProxy(t *testing.T) {
	b := New("be", servers(3, 2, 1))
	if got := sequence(t, b, 12, nil); got != "abacababacab" {
		t.Errorf("weights 3,2,1: %s", got)
	}
	b = New("be", servers(1, 1))
	if got := sequence(t, b, 6, nil); got != "ababab" {
		t.Errorf("weights 1,1: %s", got)
	}
}

func TestStaticRRAndFirst(t *testing.T) {
	b := New("be", servers(3, 2, 1))
	b.Algo = StaticRR
	// lb_map.c's map for 3,2,1 is a a b a b c.
	if got := sequence(t, b, 12, nil); got != "aababcaababc" {
		t.Errorf("static-rr 3,2,1: %s", got)
	}
	srv := servers(1, 1, 1)
	srv[0].Maxconn, srv[1].Maxconn = 1, 1
	b = New("be", srv)
	b.Algo = First
	s1, _ := b.Acquire(context.Background(), 0)
	s2, _ := b.Acquire(context.Background(), 0)
	s3, _ := b.Acquire(context.Background(), 0)
	if s1.Name+s2.Name+s3.Name != "abc" {
		t.Errorf("first: %s%s%s", s1.Name, s2.Name, s3.Name)
	}
}

func TestHashAlgorithmsAreSticky(t *testing.T) {
	b := New("be", servers(1, 1, 1))
	b.Algo = URI
	for _, uri := range []string{"/a", "/b/c", "/img/logo.png"} {
		k := Key{Hash: SDBM([]byte(uri)), Valid: true}
		first := sequence(t, b, 1, func(int) Key { return k })
		if again := sequence(t, b, 5, func(int) Key { return k }); again != strings.Repeat(first, 5) {
			t.Errorf("%s moved: %s then %s", uri, first, again)
		}
	}
	// Without a key, hashing falls back to round robin over the map.
	if got := sequence(t, b, 3, nil); got != "abc" && got != "bca" && got != "cab" {
		t.Errorf("fallback: %s", got)
	}
	if h := SourceHash(netip.MustParseAddr("127.0.0.1")); h != 0x7f000001 {
		t.Errorf("source hash %x", h)
	}
	if h := SDBM([]byte("/")); h != '/' {
		t.Errorf("sdbm %d", h)
	}
}

func TestBackupServers(t *testing.T) {
	srv := servers(1, 1, 1)
	srv[1].Backup, srv[2].Backup = true, true
	b := New("be", srv)
	if got := sequence(t, b, 3, nil); got != "aaa" {
		t.Errorf("active: %s", got)
	}
	srv[0].SetState(Down)
	if got := sequence(t, b, 3, nil); got != "bbb" {
		t.Errorf("first backup only: %s", got)
	}
	b.AllBackups = true
	b.dirty = true
	if got := sequence(t, b, 4, nil); got != "bcbc" {
		t.Errorf("allbackups: %s", got)
	}
}

func TestLeastConn(t *testing.T) {
	b := New("be", servers(1, 1))
	b.Algo = LeastConn
	s1, _ := b.Acquire(context.Background(), 0)
	s2, _ := b.Acquire(context.Background(), 0)
	if s1 == s2 {
		t.Fatalf("leastconn gave %s twice", s1.Name)
	}
	b.Release(s1)
	if s3, _ := b.Acquire(context.Background(), 0); s3 != s1 {
		t.Errorf("leastconn chose %s, want the idle %s", s3.Name, s1.Name)
	}
}

func TestSnapshot(t *testing.T) {
	srv := servers(1, 0, 1)
	srv[2].Backup = true
	b := New("be", srv)
	s, _ := b.Acquire(context.Background(), 0)
	srv[2].SetState(Down)
	st := b.Snapshot()
	got := ""
	for _, x := range st.Servers {
		got += x.Name + "=" + x.State + "/" + string(rune('0'+x.Sessions)) + " "
	}
	if got != "a=UP/1 b=DRAIN/0 c=DOWN/0 " || st.Name != "be" || st.Queue != 0 {
		t.Errorf("snapshot %q %+v", got, st)
	}
	b.Release(s)
}

// A fake Redis answers PING with +PONG, or with an error when unhealthy.
func TestRedisStyleTCPCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var healthy atomic.Bool
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				n, _ := c.Read(buf)
				if string(buf[:n]) != "PING\r\n" {
					return
				}
				if healthy.Load() {
					c.Write([]byte("+PONG\r\n"))
				} else {
					c.Write([]byte("-LOADING Redis is loading the dataset in memory\r\n"))
				}
			}()
		}
	}()
	steps := []TCPStep{{Send: []byte("PING\r\n")}, {Expect: []byte("+PONG")}}
	srv := &Server{Name: "r", Addr: ln.Addr().String(), Weight: 1,
		Check: Check{Enabled: true, Inter: 20 * time.Millisecond, Rise: 2, Fall: 1, TCP: steps}}
	b := New("be", []*Server{srv})
	var mu sync.Mutex
	var events []string
	b.OnState = func(s *Server, from, to State, reason string, up int) {
		mu.Lock()
		events = append(events, to.String()+": "+reason)
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.RunChecks(ctx)
	wait := func(st State) {
		deadline := time.Now().Add(5 * time.Second)
		for srv.State() != st {
			if time.Now().After(deadline) {
				t.Fatalf("server never %s; events %v", st, events)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait(Down)
	healthy.Store(true)
	wait(Up)
	mu.Lock()
	defer mu.Unlock()
	if len(events) < 2 || !strings.HasPrefix(events[0], "DOWN: TCPCHK did not match content at step 3") || !strings.HasPrefix(events[1], "UP: Layer7 check passed") {
		t.Errorf("events %q", events)
	}
}

// With minconn and fullconn, a server's limit grows with the backend's
// load (every stream placed or queued): minconn when lightly loaded,
// maxconn once fullconn streams are there.
func TestDynamicMaxconn(t *testing.T) {
	for _, c := range []struct{ fullconn, want int }{
		{100, 2}, // 3 streams against 100: max(2, 3*10/100) = 2 slots
		{10, 10}, // each stream raises the limit, up to maxconn
	} {
		srv := servers(1)
		srv[0].Minconn, srv[0].Maxconn = 2, 10
		b := New("be", srv)
		b.Fullconn = c.fullconn
		var held []*Server
		for i := 0; i < 12; i++ {
			s, err := b.Acquire(context.Background(), 20*time.Millisecond)
			if err != nil {
				break
			}
			held = append(held, s)
		}
		if len(held) != c.want {
			t.Errorf("fullconn %d: %d sessions admitted, want %d", c.fullconn, len(held), c.want)
		}
		for _, s := range held {
			b.Release(s)
		}
	}
}

// A server back from DOWN with slowstart takes a growing share.
func TestSlowstart(t *testing.T) {
	srv := servers(10, 10)
	srv[1].Slowstart = 400 * time.Millisecond
	b := New("be", srv)
	srv[1].setState(Down, "test")
	srv[1].setState(Up, "test")
	early := strings.Count(sequence(t, b, 40, nil), "b")
	time.Sleep(450 * time.Millisecond)
	late := strings.Count(sequence(t, b, 40, nil), "b")
	if early >= 10 || late != 20 {
		t.Errorf("b's share: %d/40 just after coming up, %d/40 after slowstart", early, late)
	}
}

func TestMaxQueue(t *testing.T) {
	srv := servers(1)
	srv[0].Maxconn = 1
	b := New("be", srv)
	b.MaxQueue = 1
	s, _ := b.Acquire(context.Background(), 0)
	queued := make(chan error, 1)
	go func() {
		s2, err := b.Acquire(context.Background(), 5*time.Second)
		if err == nil {
			b.Release(s2)
		}
		queued <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b.QueueLen() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never queued")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := b.Acquire(context.Background(), 5*time.Second); !errors.Is(err, ErrQueueFull) {
		t.Errorf("third request: %v, want the queue full", err)
	}
	b.Release(s)
	if err := <-queued; err != nil {
		t.Errorf("queued request: %v", err)
	}
}

func TestRandomDrawsPreferIdle(t *testing.T) {
	b := New("be", servers(1, 1, 1))
	b.Algo, b.Draws = Random, 20
	busy, _ := b.Acquire(context.Background(), 0)
	// With 20 draws over 3 servers, the busy one is all but never chosen.
	for i := 0; i < 20; i++ {
		s, _ := b.Acquire(context.Background(), 0)
		if s == busy {
			t.Fatalf("draw %d chose the busy server", i)
		}
		b.Release(s)
	}
	b.Release(busy)
}
