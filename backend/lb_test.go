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
	b.OnState = func(ch StateChange) {
		mu.Lock()
		events = append(events, ch.To.String()+": "+ch.Reason)
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
	if len(events) < 2 || !strings.HasPrefix(events[0], `DOWN: Layer7 invalid response, info: "TCPCHK did not match content '+PONG' at step 2"`) || !strings.HasPrefix(events[1], "UP: Layer7 check passed") {
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
// Slowstart ramps the effective weight from 1/16 of the weight, a step a
// second, and the connection limit from 1, as HAProxy does.
func TestSlowstart(t *testing.T) {
	srv := servers(10, 10)
	srv[1].Slowstart = 2 * time.Second
	srv[1].Maxconn = 10
	b := New("be", srv)
	srv[1].setState(Down, "test")
	srv[1].setState(Up, "test")
	if m := srv[1].dynMaxconn(); m > 5 {
		t.Errorf("maxconn just after coming up: %d, want at most 5 of 10", m)
	}
	// In the first second b weighs 1/16 of a; in the second, 9/16.
	early := strings.Count(sequence(t, b, 40, nil), "b")
	time.Sleep(2100 * time.Millisecond)
	late := strings.Count(sequence(t, b, 40, nil), "b")
	if early > 15 || late != 20 {
		t.Errorf("b's share: %d/40 just after coming up, %d/40 after slowstart", early, late)
	}
	if m := srv[1].dynMaxconn(); m != 10 {
		t.Errorf("maxconn after slowstart: %d", m)
	}
}

// TestMaxQueue checks HAProxy's two queues: a request hashed to a full
// server waits in that server's queue, bounded by its maxqueue, while a
// balancer that finds every server full queues on the backend, unbounded.
func TestMaxQueue(t *testing.T) {
	for _, algo := range []Algo{URI, RoundRobin} {
		srv := servers(1)
		srv[0].Maxconn, srv[0].MaxQueue = 1, 1
		b := New("be", srv)
		b.Algo = algo
		k := Key{Hash: 7, Valid: true}
		s, _ := b.AcquireKey(context.Background(), 0, k)
		queued := make(chan error, 2)
		wait := func() {
			s2, err := b.AcquireKey(context.Background(), 5*time.Second, k)
			if err == nil {
				b.Release(s2)
			}
			queued <- err
		}
		waitLen := func(n int) {
			deadline := time.Now().Add(5 * time.Second)
			for b.QueueLen() != n {
				if time.Now().After(deadline) {
					t.Fatalf("%d: the queue never reached %d", algo, n)
				}
				time.Sleep(time.Millisecond)
			}
		}
		go wait()
		waitLen(1)
		want := 1
		if algo == URI {
			if _, err := b.AcquireKey(context.Background(), 5*time.Second, k); !errors.Is(err, ErrQueueFull) {
				t.Errorf("third request on a hash: %v, want the queue full", err)
			}
			if st := b.Snapshot(); st.Servers[0].Queue != 1 || st.Queue != 1 {
				t.Errorf("snapshot: server queue %d, backend %d, want 1 and 1", st.Servers[0].Queue, st.Queue)
			}
		} else {
			go wait()
			waitLen(2)
			want = 2
		}
		b.Release(s)
		for i := 0; i < want; i++ {
			if err := <-queued; err != nil {
				t.Errorf("%d: queued request: %v", algo, err)
			}
		}
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

func TestHashFunctions(t *testing.T) {
	check := []struct {
		name string
		got  uint32
		want uint32
	}{
		{"crc32", CRC32([]byte("123456789")), 0xcbf43926},
		{"djb2 empty", DJB2(nil), 5381},
		{"djb2", DJB2([]byte("a")), 5381*33 + 'a'},
		{"wt6 empty", WT6(nil), 0xa53c965a ^ 0x5ca6953a},
	}
	for _, c := range check {
		if c.got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if f, ok := ParseHashFunc("wt6"); !ok || f.Sum([]byte("x")) != WT6([]byte("x")) {
		t.Error("ParseHashFunc(wt6)")
	}
}

// With consistent hashing, a server going down moves only its own keys.
func TestConsistentHashMovesOnlyTheDownServersKeys(t *testing.T) {
	srv := servers(1, 2, 1, 1)
	b := New("be", srv)
	b.Algo, b.Consistent = URI, true
	key := func(i int) Key { return Key{Hash: FullHash(uint32(i)), Valid: true} }
	const n = 2000
	before := sequence(t, b, n, key)
	srv[1].setState(Down, "test")
	after := sequence(t, b, n, key)
	moved := 0
	for i := 0; i < n; i++ {
		switch {
		case before[i] == 'b' && after[i] == 'b':
			t.Fatalf("key %d still on the down server", i)
		case before[i] != 'b' && after[i] != before[i]:
			moved++
		}
	}
	if moved != 0 {
		t.Errorf("%d keys of servers still up moved", moved)
	}
	if c := strings.Count(before, "b"); c < n/5 || c > n*3/5 {
		t.Errorf("b (weight 2 of 5) got %d of %d keys", c, n)
	}
	srv[1].setState(Up, "test")
	if again := sequence(t, b, n, key); again != before {
		t.Error("keys did not come back to b when it came back up")
	}
}

// hash-balance-factor bounds a server's share of the sessions in use:
// the same key spreads once its server holds more than its share.
func TestHashBalanceFactor(t *testing.T) {
	b := New("be", servers(1, 1, 1, 1))
	b.Algo, b.Consistent, b.BalanceFactor = URI, true, 125
	k := Key{Hash: 12345, Valid: true}
	per := map[string]int{}
	var held []*Server
	for i := 0; i < 40; i++ {
		s, err := b.AcquireKey(context.Background(), 0, k)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, s)
		per[s.Name]++
	}
	// 125% of an even share of 40 over 4 servers is at most 13.
	for name, c := range per {
		if c > 13 {
			t.Errorf("server %s holds %d of 40 sessions: %v", name, c, per)
		}
	}
	if len(per) != 4 {
		t.Errorf("sessions spread over %d servers: %v", len(per), per)
	}
	for _, s := range held {
		b.Release(s)
	}
	b.BalanceFactor = 0
	first := sequence(t, b, 10, func(int) Key { return k })
	if first != strings.Repeat(first[:1], 10) {
		t.Errorf("without a factor the key moved: %s", first)
	}
}

// A request served at once allocates nothing, whatever its queue
// timeout: the queue's timer is made only for requests that wait.
func TestAcquireWithoutWaitingAllocatesNothing(t *testing.T) {
	b := New("be", servers(1, 1))
	k := Key{Hash: 3, Valid: true}
	for _, algo := range []Algo{RoundRobin, URI} {
		b.Algo = algo
		n := testing.AllocsPerRun(1000, func() {
			s, err := b.AcquireKey(context.Background(), 5*time.Second, k)
			if err != nil {
				t.Fatal(err)
			}
			b.Release(s)
		})
		if n != 0 {
			t.Errorf("algo %d: %.1f allocations per request", algo, n)
		}
	}
}
