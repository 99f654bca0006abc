package stick

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// TestChunkSize keeps a chunk in the 32 KiB size class.
func TestChunkSize(t *testing.T) {
	if n := unsafe.Sizeof(chunk{}); n > 32<<10 {
		t.Errorf("chunk takes %d bytes", n)
	}
}

// TestIndexChurn creates, counts and removes string keys that are prefixes
// of each other across several chunks, and checks every key against a
// model after each step: removals shift probe runs back, freed entries are
// reused for other keys and must come back with zero counters.
func TestIndexChurn(t *testing.T) {
	clk := newClock(1000)
	const size = 3 * chunkLen
	tb := mustTable(t, "stick-table type string len 12 size "+strconv.Itoa(size)+" store gpc0,bytes_in_cnt,http_req_rate(10s)", clk)
	var set Tables
	set.Add(tb)
	model := map[string]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() string { return strings.Repeat("k", 1+rng.IntN(3)) + strconv.Itoa(rng.IntN(size/3)) }
	for step := 0; step < 60000; step++ {
		s := key()
		k := BytesKey([]byte(s))
		switch op := rng.IntN(10); {
		case op < 6:
			e := tb.Get(&k)
			if e == nil {
				t.Fatalf("step %d: no entry for %q with %d used", step, s, tb.Used())
			}
			n, _ := e.IncGPC0()
			e.AddBytesIn(1 << 33)
			if n != model[s]+1 {
				t.Fatalf("step %d: %q gpc0 %d, want %d", step, s, n, model[s]+1)
			}
			model[s] = n
			if v, _ := e.Value(BytesInCnt, 0); v != n<<33 {
				t.Fatalf("step %d: %q bytes_in_cnt %d, want %d", step, s, v, n<<33)
			}
			e.Release()
		case op < 9:
			_, inModel := model[s]
			if got := set.Command([]string{"clear", "table", "fe", "key", s}, true); got != "" {
				t.Fatalf("step %d: clear %q: %q", step, s, got)
			}
			if e := tb.Lookup(&k); e != nil {
				t.Fatalf("step %d: %q still there after clear (in model %v)", step, s, inModel)
			}
			delete(model, s)
		default:
			e := tb.Lookup(&k)
			if (e != nil) != (model[s] != 0) {
				t.Fatalf("step %d: lookup %q found %v, model %d", step, s, e != nil, model[s])
			}
			if e != nil {
				if v, _ := e.GPC0(); v != model[s] {
					t.Fatalf("step %d: %q gpc0 %d, want %d", step, s, v, model[s])
				}
				e.Release()
			}
		}
		if tb.Used() != len(model) {
			t.Fatalf("step %d: used %d, model %d", step, tb.Used(), len(model))
		}
	}
	for s, n := range model {
		k := BytesKey([]byte(s))
		e := tb.Lookup(&k)
		if e == nil {
			t.Fatalf("%q lost", s)
		}
		if v, _ := e.GPC0(); v != n {
			t.Fatalf("%q gpc0 %d, want %d", s, v, n)
		}
		e.Release()
	}
	lines := strings.Count(set.Command(strings.Fields("show table fe"), true), "\n")
	if lines != len(model)+1 {
		t.Errorf("show table lists %d lines for %d entries", lines, len(model))
	}
}

// TestReleaseAfterReuse releases an expired entry whose last reference is
// dropped after the expiry task freed nothing: the entry goes, and a new
// key that takes its place is not removed by a stale removal.
func TestReleaseAfterReuse(t *testing.T) {
	clk := newClock(1000)
	tb := mustTable(t, "stick-table type ip size 1 expire 1s store gpc0", clk)
	a, b := ip4("10.0.0.1"), ip4("10.0.0.2")
	ea := tb.Get(&a)
	ea.IncGPC0()
	clk.add(2000)
	if tb.Purge() != 0 {
		t.Fatal("purged a referenced entry")
	}
	ea.Release() // last reference of an expired entry: removed
	if tb.Used() != 0 {
		t.Fatalf("used %d after releasing an expired entry", tb.Used())
	}
	eb := tb.Get(&b)
	if eb != ea {
		t.Fatal("freed entry not reused")
	}
	if v, _ := eb.GPC0(); v != 0 {
		t.Fatalf("reused entry kept gpc0 %d", v)
	}
	eb.Release()
	if tb.remove(eb, 0, true) {
		t.Fatal("removed a live entry as expired")
	}
	if e := tb.Lookup(&b); e == nil {
		t.Fatal("new key lost")
	} else {
		e.Release()
	}
}

// TestUpdateLogReferences takes entries from the update log of a shared
// table while other goroutines fill it past its size and clear it: an
// entry referenced from the log stays in the table under its key until
// released, though unreferenced ones are evicted and reused meanwhile.
func TestUpdateLogReferences(t *testing.T) {
	clk := newClock(1000)
	tb := mustTable(t, "stick-table type integer size 32 store gpc0", clk)
	tb.Share(func() {})
	var set Tables
	set.Add(tb)
	done := make(chan struct{})
	var workers sync.WaitGroup
	for w := 0; w < 2; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				k := IntKey(int64(w<<20 | i%97))
				if e := tb.Get(&k); e != nil {
					e.IncGPC0()
					e.Release()
				}
				if i%50 == 0 {
					set.Command(strings.Fields("clear table fe"), true)
				}
			}
		}(w)
	}
	from, seen := uint32(0), 0
	for round := 0; round < 1e7 && seen < 20000; round++ {
		ups, last := tb.LocalUpdates(from, 16)
		from = last
		if len(ups) > 0 {
			from = ups[len(ups)-1].ID
		}
		for _, u := range ups {
			key := u.Entry.KeyBytes()
			runtime.Gosched()
			k := tb.PeerKey([]byte{key[3], key[2], key[1], key[0]})
			e := tb.Lookup(&k)
			if e != u.Entry || string(u.Entry.KeyBytes()) != string(key) {
				t.Fatalf("round %d: entry of update %d left the table or changed key while referenced", round, u.ID)
			}
			e.Release()
			u.Entry.Release()
			seen++
		}
	}
	close(done)
	workers.Wait()
}

// TestExpiryOrder gives entries expiry dates out of creation order, as
// peers do, removes some from the middle of the expiry queue, and checks
// that each purge removes exactly the entries past their date.
func TestExpiryOrder(t *testing.T) {
	clk := newClock(1000)
	const n = 2000
	tb := mustTable(t, "stick-table type integer size 4k expire 100s store gpc0", clk)
	tb.Share(func() {})
	var set Tables
	set.Add(tb)
	rng := rand.New(rand.NewPCG(3, 4))
	exp := make([]uint32, n) // ms after the start; 0 once cleared
	for i := range exp {
		exp[i] = 1 + uint32(rng.IntN(100_000))
		k := IntKey(int64(i))
		if !tb.ApplyRemote(&k, exp[i], nil) {
			t.Fatal("not stored")
		}
	}
	for i := 0; i < n; i += 7 {
		set.Command([]string{"clear", "table", "fe", "key", strconv.Itoa(i)}, true)
		exp[i] = 0
	}
	for at := uint32(0); at <= 100_000; at += 2500 {
		clk.set(1000 + at)
		tb.Purge()
		alive := 0
		for _, x := range exp {
			if x > at {
				alive++
			}
		}
		if tb.Used() != alive {
			t.Fatalf("at %d ms: %d entries after the purge, want %d", at, tb.Used(), alive)
		}
		for i, x := range exp {
			k := IntKey(int64(i))
			e := tb.Lookup(&k)
			if want := x > at; (e != nil) != want {
				t.Fatalf("at %d ms: key %d (expiring at %d) present %v", at, i, x, e != nil)
			}
			if e != nil {
				e.Release()
			}
		}
	}
	if tb.Used() != 0 {
		t.Fatalf("used %d at the end", tb.Used())
	}
}
