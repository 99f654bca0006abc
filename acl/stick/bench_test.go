package stick

import (
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// TestConcurrent tracks, counts, lists and clears from many goroutines;
// run it with -race. Counters of a shared key must add up.
func TestConcurrent(t *testing.T) {
	clk := newClock(1_000_000)
	tb := mustTable(t, "stick-table type ip size 64 expire 1s store http_req_cnt,http_req_rate(10s),conn_cur,gpc0", clk)
	var set Tables
	set.Add(tb)
	shared := ip4("10.0.0.1")
	// a long-lived reference keeps the shared entry from eviction
	hold := tb.Get(&shared)
	const workers, rounds = 8, 2000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				e := tb.Track(&shared)
				e.IncHTTPReq()
				e.IncGPC0()
				e.StopCounters()
				e.Release()
				// churn: more keys than the table holds
				k, _ := IPKey(KeyIP, netip.AddrFrom4([4]byte{10, 1, byte(w), byte(i)}))
				if o := tb.Get(&k); o != nil {
					o.IncHTTPReq()
					o.Release()
				}
				if i%200 == 0 {
					clk.add(1)
					set.Command(strings.Fields("show table fe data.gpc0 gt 0"), true)
					tb.Purge()
				}
			}
		}(w)
	}
	wg.Wait()
	e := tb.Lookup(&shared)
	if e == nil {
		t.Fatal("shared entry evicted while in use")
	}
	defer e.Release()
	if e != hold {
		t.Fatal("shared entry replaced while referenced")
	}
	hold.Release()
	if v, _ := e.Value(HTTPReqCnt, 0); v != workers*rounds {
		t.Errorf("http_req_cnt %d, want %d", v, workers*rounds)
	}
	if v, _ := e.Value(ConnCur, 0); v != 0 {
		t.Errorf("conn_cur %d", v)
	}
	if n := tb.Used(); n > 64 {
		t.Errorf("used %d above size", n)
	}
}

// BenchmarkTrackExisting is the per-request work on a tracked key: track,
// count the request, stop and release. It must not allocate.
func BenchmarkTrackExisting(b *testing.B) {
	clk := newClock(1_000_000)
	tb := mustTable(b, "stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur,conn_cnt,gpc0,http_err_rate(10s),bytes_out_rate(10s)", clk)
	keys := make([]Key, 1024)
	for i := range keys {
		keys[i], _ = IPKey(KeyIP, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
		tb.Get(&keys[i]).Release()
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			k := &keys[i&1023]
			i++
			e := tb.Track(k)
			e.IncHTTPReq()
			if v, _ := e.Value(HTTPReqRate, 0); v < 0 {
				b.Fatal(v)
			}
			e.AddBytesOut(100)
			e.StopCounters()
			e.Release()
		}
	})
}

// BenchmarkLookupString looks up an existing string key from a byte
// slice without allocating.
func BenchmarkLookupString(b *testing.B) {
	clk := newClock(1)
	tb := mustTable(b, "stick-table type string len 64 size 10k store gpc0", clk)
	for i := 0; i < 1000; i++ {
		k := BytesKey([]byte("session-" + strconv.Itoa(i)))
		tb.Get(&k).Release()
	}
	buf := []byte("session-123")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := BytesKey(buf)
		e := tb.Lookup(&k)
		if e == nil {
			b.Fatal("missing")
		}
		e.Release()
	}
}

// BenchmarkLookupBinary pads a short binary key without allocating.
func BenchmarkLookupBinary(b *testing.B) {
	clk := newClock(1)
	tb := mustTable(b, "stick-table type binary len 16 size 10k", clk)
	k := BytesKey([]byte{1, 2, 3})
	tb.Get(&k).Release()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := tb.Lookup(&k)
		if e == nil {
			b.Fatal("missing")
		}
		e.Release()
	}
}

// BenchmarkMillionEntries fills a table of 1M entries with an expiry and
// reports the heap each entry costs, then times the per-request work on
// it: bounded memory (the size caps it), constant work per request.
func BenchmarkMillionEntries(b *testing.B) {
	clk := newClock(1_000_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tb := mustTable(b, "stick-table type ip size 1m expire 30s store http_req_rate(10s),gpc0", clk)
	const n = 1 << 20
	keys := make([]Key, 1024)
	for i := 0; i < n; i++ {
		k, _ := IPKey(KeyIP, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		tb.Get(&k).Release()
		if i < len(keys) {
			keys[i] = k
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	keysSize := uint64(len(keys)) * uint64(unsafe.Sizeof(Key{}))
	perEntry := float64(after.HeapAlloc-before.HeapAlloc-keysSize) / float64(tb.Used())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := tb.Track(&keys[i&1023])
		e.IncHTTPReq()
		e.StopCounters()
		e.Release()
	}
	b.ReportMetric(perEntry, "heapB/entry")
}

// BenchmarkChurnFull creates a new key per request in a full table with an
// expiry, so that every creation may evict: the work per request stays
// constant and, once the table has filled, allocates nothing.
func BenchmarkChurnFull(b *testing.B) {
	clk := newClock(1_000_000)
	tb := mustTable(b, "stick-table type ip size 64k expire 30s store http_req_rate(10s),gpc0", clk)
	key := func(i int) Key {
		k, _ := IPKey(KeyIP, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		return k
	}
	for i := 0; i < 1<<16; i++ {
		k := key(i)
		tb.Get(&k).Release()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := key(1<<16 + i%(1<<22))
		e := tb.Track(&k)
		if e == nil {
			b.Fatal("table full")
		}
		e.IncHTTPReq()
		e.StopCounters()
		e.Release()
		if i&1023 == 0 {
			clk.add(1)
		}
	}
	if n := tb.Used(); n > 1<<16 {
		b.Fatalf("used %d", n)
	}
}
