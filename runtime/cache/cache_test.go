package cache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// hdrs is a Headers of "Name: value" lines.
type hdrs []string

func (h hdrs) Len() int { return len(h) }

func (h hdrs) Header(i int) ([]byte, []byte) {
	n, v, _ := strings.Cut(h[i], ":")
	return []byte(n), []byte(strings.TrimLeft(v, " "))
}

func TestPrimaryKey(t *testing.T) {
	var tx Txn
	// HAProxy 2.6.12's "show cache" printed these keys.
	cases := []struct {
		host, uri string
		key       uint32
	}{{"127.0.0.1:18182", "/a.txt", 2154836024}, {"127.0.0.1:18182", "/c.txt", 1002401956}, {"x", "/c.txt", 3036413216}}
	for _, c := range cases {
		if _, ok := tx.Key(nil, []byte(c.uri), false, hdrs{"Host: " + c.host}); !ok || Primary(&tx.Hash) != c.key {
			t.Errorf("%s%s: key %d, want %d", c.host, c.uri, Primary(&tx.Hash), c.key)
		}
	}
	if _, ok := tx.Key(nil, []byte("/"), false, hdrs{}); ok {
		t.Error("a relative URI without Host got a key")
	}
	a, b := tx, tx
	a.Key(nil, []byte("http://h/x"), true, hdrs{"Host: other"})
	b.Key(nil, []byte("http://h/x"), true, hdrs{"Host: h"})
	if a.Hash != b.Hash {
		t.Error("an absolute URI's key depends on Host")
	}
}

func TestAcceptEncoding(t *testing.T) {
	cases := []struct {
		h    hdrs
		want uint32
		ok   bool
	}{
		{hdrs{}, ^uint32(0), true},
		{hdrs{"Accept-Encoding: gzip"}, encGzip | encIdentity, true},
		{hdrs{"Accept-Encoding: GZIP;q=0.8, deflate"}, encGzip | encDeflate | encIdentity, true},
		{hdrs{"Accept-Encoding: deflate, identity;q=0"}, encDeflate, true},
		{hdrs{"Accept-Encoding: gzip;q=0, *"}, ^uint32(0) &^ encGzip, true},
		{hdrs{"Accept-Encoding: first"}, encIdentity | encOther, true},
		{hdrs{"Accept-Encoding: gzipx"}, encIdentity | encOther, true},
		{hdrs{"Accept-Encoding:"}, encIdentity, true},
		{hdrs{"Accept-Encoding: x-gzip", "Accept-Encoding: br"}, encGzip | encBr | encIdentity, true},
		{hdrs{"Accept-Encoding: a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17"}, 0, false},
	}
	for _, c := range cases {
		got, ok := acceptEncodingBitmap(c.h)
		if got != c.want || ok != c.ok {
			t.Errorf("%v: %#x %v, want %#x %v", c.h, got, ok, c.want, c.ok)
		}
	}
	// The bitmap is no hash: codings never collide (HAProxy issue 988).
	a, _ := acceptEncodingBitmap(hdrs{"Accept-Encoding: br,gzip,xxx,jdcqiab"})
	b, _ := acceptEncodingBitmap(hdrs{"Accept-Encoding: gzip"})
	if a == b {
		t.Error("different Accept-Encoding lists gave the same key")
	}
}

func TestMaxAge(t *testing.T) {
	const now = 1000
	cases := []struct {
		h        hdrs
		eff, own int64
	}{
		{hdrs{"Cache-Control: max-age=5"}, 5, 5},
		{hdrs{"Cache-Control: max-age=500"}, 60, 500},
		{hdrs{"Cache-Control: s-maxage=7, max-age=5"}, 7, 7},
		{hdrs{"Cache-Control: max-age=\"9\""}, 9, 9},
		{hdrs{"Cache-Control: max-age=x"}, -1, 0},
		{hdrs{"Expires: Thu, 01 Jan 1970 00:16:50 GMT"}, 10, 10},
		{hdrs{"Expires: garbage"}, 0, 0},
		{hdrs{"Cache-Control: max-age=5", "Expires: garbage"}, 5, 5},
		{hdrs{"ETag: \"x\""}, 60, 0},
	}
	for _, c := range cases {
		if eff, own := maxAge(c.h, 60, now); eff != c.eff || own != c.own {
			t.Errorf("%v: %d %d, want %d %d", c.h, eff, own, c.eff, c.own)
		}
	}
}

func TestCacheability(t *testing.T) {
	req := func(method string, h hdrs) uint8 {
		var tx Txn
		tx.Begin([]byte(method))
		tx.CheckRequest(h)
		return tx.Flags
	}
	if f := req("GET", hdrs{"Pragma: no-cache"}); f&FlagIgnore == 0 {
		t.Error("Pragma: no-cache alone does not bypass the cache")
	}
	if f := req("GET", hdrs{"Pragma: no-cache", "Cache-Control: public"}); f&FlagIgnore != 0 {
		t.Error("Pragma counted next to Cache-Control")
	}
	if f := req("GET", hdrs{"Authorization: x"}); f&FlagCacheable != 0 || f&FlagIgnore == 0 {
		t.Error("Authorization left the request cacheable")
	}
	if f := req("POST", hdrs{}); f&FlagCacheable != 0 {
		t.Error("POST is cacheable")
	}
	rsp := func(h hdrs) bool {
		var tx Txn
		tx.Begin([]byte("GET"))
		tx.checkResponse(200, h)
		return tx.Flags&FlagCacheable != 0 && tx.Flags&FlagCook != 0
	}
	for h, want := range map[string]bool{
		"Cache-Control: max-age=5":                     true,
		"Last-Modified: Thu, 22 Oct 2020 16:51:12 GMT": true,
		"X: y":                              false,
		"Cache-Control: private, max-age=5": false,
		"Cache-Control: max-age=0":          false,
		"Cache-Control: no-cache=\"set-cookie\", max-age=5": false,
		"Pragma: no-cache": false,
	} {
		if got := rsp(strings.Split(h, "|")); got != want {
			t.Errorf("%q: cacheable %v, want %v", h, got, want)
		}
	}
}

func TestNotModified(t *testing.T) {
	e := &Entry{etag: []byte(`"etag"`), lastModified: 1000}
	for h, want := range map[string]bool{
		`If-None-Match: *`:                                 true,
		`If-None-Match: W/"etag"`:                          true,
		`If-None-Match: "x", W/"etag"`:                     true,
		`If-None-Match: "x"`:                               false,
		`If-None-Match: etag`:                              false,
		"If-Modified-Since: Thu, 01 Jan 1970 00:16:40 GMT": true,
		"If-Modified-Since: Thu, 01 Jan 1970 00:16:39 GMT": false,
	} {
		if got := NotModified(hdrs{h}, e); got != want {
			t.Errorf("%s: %v, want %v", h, got, want)
		}
	}
	// If-None-Match wins over If-Modified-Since.
	if NotModified(hdrs{`If-None-Match: "x"`, "If-Modified-Since: Thu, 01 Jan 1970 00:16:40 GMT"}, e) {
		t.Error("If-Modified-Since used next to If-None-Match")
	}
}

// store stores a Content-Length response of n bytes for path, and
// reports whether it became an object.
func store(c *Cache, path string, n int, now int64) bool {
	var tx Txn
	h := hdrs{"Host: h"}
	tx.Begin([]byte("GET"))
	tx.Key(nil, []byte(path), false, h)
	body := strings.Repeat("b", n)
	w := c.Store(&tx, &Response{Method: []byte("GET"), HTTP11: true, Status: 200, StatusLine: []byte("HTTP/1.1 200 OK"),
		Headers: hdrs{"Cache-Control: max-age=60", fmt.Sprintf("Content-Length: %d", n)}, Length: int64(n)}, now)
	if w == nil {
		return false
	}
	w.Write([][]byte{[]byte("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n" + body[:n/2]), []byte(body[n/2:])})
	w.Close()
	return lookup(c, path, now) != nil
}

func lookup(c *Cache, path string, now int64) *Entry {
	var tx Txn
	h := hdrs{"Host: h"}
	tx.Begin([]byte("GET"))
	tx.Key(nil, []byte(path), false, h)
	return c.Lookup(&tx, h, now)
}

func TestStoreLimits(t *testing.T) {
	c := New(Config{Name: "c", Blocks: 8, MaxAge: 60, MaxObjectSize: 2048})
	if !store(c, "/small", 100, 1) {
		t.Fatal("small object not stored")
	}
	if e := lookup(c, "/small", 2); e == nil || len(e.Body) != 100 || e.Age(5) != 4 {
		t.Fatalf("stored object: %+v", e)
	}
	if store(c, "/big", 3000, 1) {
		t.Error("object above max-object-size stored")
	}
	// Eight blocks: storing more evicts the least recently used.
	for i := 0; i < 8; i++ {
		if !store(c, fmt.Sprintf("/o%d", i), 1500, 1) {
			t.Fatalf("/o%d not stored", i)
		}
		lookup(c, "/o0", 1)
	}
	if lookup(c, "/o0", 1) == nil {
		t.Error("the most recently used object was evicted")
	}
	if lookup(c, "/o1", 1) != nil {
		t.Error("the least recently used object is still there")
	}
	if list, avail := c.Show(1); avail != 8 || len(list) != 4 {
		t.Errorf("show: %d objects, %d blocks free: %+v", len(list), avail, list)
	}
	if lookup(c, "/o7", 61) != nil {
		t.Error("an object outlived its max-age")
	}
}

// TestSecondaryEntries: max-secondary-entries bounds the objects of one
// key that vary; a Referer each makes a new one.
func TestSecondaryEntries(t *testing.T) {
	c := New(Config{Name: "c", Blocks: 64, MaxAge: 60, ProcessVary: true, MaxSecondary: 2})
	stored := 0
	for i := 0; i < 4; i++ {
		var tx Txn
		h := hdrs{"Host: h", fmt.Sprintf("Referer: r%d", i)}
		tx.Begin([]byte("GET"))
		tx.Key(nil, []byte("/v"), false, h)
		if c.Lookup(&tx, h, 1) != nil {
			t.Fatalf("referer r%d hit", i)
		}
		w := c.Store(&tx, &Response{Method: []byte("GET"), HTTP11: true, Status: 200, StatusLine: []byte("HTTP/1.1 200 OK"),
			Headers: hdrs{"Cache-Control: max-age=60", "Vary: referer,accept-encoding", "Content-Length: 1"}, Length: 1}, 1)
		if w != nil {
			w.Write([][]byte{[]byte("HTTP/1.1 200 OK\r\n\r\nx")})
			stored++
		}
	}
	if stored != 2 {
		t.Errorf("%d objects stored for one key, want max-secondary-entries 2", stored)
	}
	var tx Txn
	h := hdrs{"Host: h", "Referer: r1"}
	tx.Begin([]byte("GET"))
	tx.Key(nil, []byte("/v"), false, h)
	if c.Lookup(&tx, h, 1) == nil {
		t.Error("the second referer's object is not found")
	}
	// HAProxy 2.6.12 puts the response's coding in the key even when it
	// does not vary on Accept-Encoding: such an object is never found
	// (fixed in HAProxy 3.0, commit 0610f52bc).
	c = New(Config{Name: "c", Blocks: 64, MaxAge: 60, ProcessVary: true})
	tx.Begin([]byte("GET"))
	tx.Key(nil, []byte("/v"), false, h)
	c.Lookup(&tx, h, 1)
	w := c.Store(&tx, &Response{Method: []byte("GET"), HTTP11: true, Status: 200, StatusLine: []byte("HTTP/1.1 200 OK"),
		Headers: hdrs{"Cache-Control: max-age=60", "Vary: referer", "Content-Length: 1"}, Length: 1}, 1)
	w.Write([][]byte{[]byte("HTTP/1.1 200 OK\r\n\r\nx")})
	tx.Begin([]byte("GET"))
	tx.Key(nil, []byte("/v"), false, h)
	if c.Lookup(&tx, h, 1) != nil {
		t.Error("an object that varies on Referer alone was found")
	}
}

// TestConcurrent stores and reads from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	c := New(Config{Name: "c", Blocks: 16, MaxAge: 60, MaxObjectSize: 4096})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		// "show cache" while objects are written.
		for {
			select {
			case <-stop:
				return
			default:
				c.Show(1)
			}
		}
	}()
	defer close(stop)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p := fmt.Sprintf("/p%d", (g*7+i)%40)
				if e := lookup(c, p, 1); e == nil {
					store(c, p, 900, 1)
				} else if len(e.Body) != 900 {
					t.Errorf("%s: body of %d bytes", p, len(e.Body))
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if _, avail := c.Show(1); avail != 16 {
		t.Errorf("%d blocks free after all writers ended, want 16", avail)
	}
}

// bhdrs is a Headers that allocates nothing.
type bhdrs [][2][]byte

func (h *bhdrs) Len() int                      { return len(*h) }
func (h *bhdrs) Header(i int) ([]byte, []byte) { return (*h)[i][0], (*h)[i][1] }

func BenchmarkLookupHit(b *testing.B) {
	c := New(Config{Name: "c", Blocks: 64, MaxAge: 60})
	store(c, "/x", 500, 1)
	h := &bhdrs{{[]byte("Host"), []byte("h")}, {[]byte("Accept-Encoding"), []byte("gzip")}}
	get, uri := []byte("GET"), []byte("/x")
	var tx Txn
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tx.Begin(get)
		tx.CheckRequest(h)
		buf, _ = tx.Key(buf, uri, false, h)
		if c.Lookup(&tx, h, 1) == nil {
			b.Fatal("miss")
		}
	}
}
