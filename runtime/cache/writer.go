package cache

// Response is what cache-store reads of a response and its request.
type Response struct {
	// Method is the request's method; HTTP11 says the request was HTTP/1.1.
	Method []byte
	HTTP11 bool
	Status int
	// StatusLine is the response's first line, without CRLF.
	StatusLine []byte
	// Headers are the response's headers as the rules left them.
	Headers Headers
	// Length is the Content-Length, -1 when the body has none; Chunked
	// says the body is chunked. A body that ends with the connection is
	// neither and is not stored.
	Length  int64
	Chunked bool
	// FromCache says the response is a hit; Disabled that the cache
	// must not store it (compression came first).
	FromCache, Disabled bool
	// DropAge is set by Store when the Age header must leave the
	// response, as HAProxy removes it from a response it stores.
	DropAge bool
}

// htxHeadSize is what the head takes in HAProxy's HTX form: the start
// line (its 20-byte descriptor and its three words), each header's name
// and value, the end-of-headers marker, each block with its 4-byte info.
func htxHeadSize(r *Response, skip int) (data, stored int) {
	sl := r.StatusLine
	words := len(sl)
	for i := 0; i < len(sl) && i < 2; i++ {
		words-- // the blanks between the three words
	}
	data = 20 + words
	stored = 4 + data
	for i := 0; i < r.Headers.Len(); i++ {
		if i == skip {
			// A removed header leaves an unused block behind.
			stored += 4
			continue
		}
		n, v := r.Headers.Header(i)
		data += len(n) + len(v)
		stored += 4 + len(n) + len(v)
	}
	data++
	stored += 4 + 1
	return data, stored
}

// Store is cache-store (http_action_store_cache): it decides whether the
// response may be stored and, if so, indexes an incomplete object and
// returns the Writer that fills it as the response streams out. It
// returns nil otherwise; a successful unsafe method drops the object of
// its key.
func (c *Cache) Store(t *Txn, r *Response, now int64) *Writer {
	if r.FromCache || !r.HTTP11 {
		return nil
	}
	if string(r.Method) != "GET" {
		if r.Status >= 200 && r.Status < 400 {
			switch string(r.Method) {
			case "OPTIONS", "HEAD", "TRACE":
			default:
				c.Invalidate(t, now)
			}
		}
		return nil
	}
	if t.Flags&FlagKeyed == 0 || Primary(&t.Hash) == 0 || r.Status != 200 || r.Disabled {
		return nil
	}
	if !r.Chunked && r.Length < 0 {
		return nil
	}
	ageAt := -1
	for i := 0; i < r.Headers.Len(); i++ {
		if n, _ := r.Headers.Header(i); equalFold(n, "age") {
			ageAt = i
			break
		}
	}
	hdata, hstored := htxHeadSize(r, -1)
	if r.Length >= 0 && c.cfg.MaxObjectSize > 0 && int64(hdata)+r.Length > int64(c.cfg.MaxObjectSize) {
		return nil
	}
	var sig uint32
	sec := t.SecKey
	if c.cfg.ProcessVary {
		var ok bool
		if sig, ok = varySignature(r.Headers); !ok {
			return nil
		}
		if sig != 0 {
			if t.Flags&FlagHasSecKey == 0 {
				return nil
			}
			reduceSecondary(&sec, sig)
		}
	} else if _, ok := first(r.Headers, "vary"); ok {
		return nil
	}
	t.checkResponse(r.Status, r.Headers)
	// HAProxy 2.6.12 stores the response of a request that asked not to
	// be served from the cache (no-cache): FlagIgnore is not looked at.
	if t.Flags&FlagCacheable == 0 || t.Flags&FlagCook == 0 {
		return nil
	}
	e := &Entry{key: Primary(&t.Hash), hash: t.Hash, sig: sig, Chunked: r.Chunked}
	if sig != 0 {
		e.secKey = sec
	}
	if !c.place(e, &sec, now) {
		return nil
	}
	eff, own := maxAge(r.Headers, c.cfg.MaxAge, now)
	if ageAt >= 0 {
		_, v := r.Headers.Header(ageAt)
		a, ok := ageValue(trimLWS(v))
		if !ok || a <= 0 || min(a, maxEntryAge) > own {
			c.dropLocked(e)
			return nil
		}
		// The Age header leaves the response, which then goes on
		// without it; its place is still counted.
		e.age = min(a, maxEntryAge)
		r.DropAge = true
		_, hstored = htxHeadSize(r, ageAt)
	}
	e.lastModified = lastModified(r.Headers, now)
	var bm uint32
	if sig != 0 {
		var ok bool
		if bm, ok = responseEncoding(r.Headers); !ok {
			c.dropLocked(e)
			return nil
		}
	}
	e.Head = appendHead(make([]byte, 0, hstored), r, ageAt, e)
	if r.Length > 0 {
		// Bounded by max-object-size above; a chunked body grows.
		e.Body = make([]byte, 0, r.Length)
	}
	// What others read of an indexed object changes under the lock.
	c.mu.Lock()
	defer c.mu.Unlock()
	if sig != 0 {
		e.secKey[0], e.secKey[1], e.secKey[2], e.secKey[3] = byte(bm), byte(bm>>8), byte(bm>>16), byte(bm>>24)
	}
	e.size = entryOverhead + hstored
	if !c.reserve(e, e.size) {
		c.drop(e)
		return nil
	}
	c.next++
	e.id = c.next
	e.validated = now
	e.expire = now + eff
	w := &Writer{c: c, e: e, remain: r.Length}
	return w
}

// place indexes a new object unless one of the same keys is being
// written (or the key has too many), as HAProxy does before it reads
// the response's age.
func (c *Cache) place(e *Entry, sec *[SecKeyLen]byte, now int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.find(&e.hash, now); old != nil {
		if e.sig != 0 {
			old = c.findSecondary(old, sec, now)
		}
		if old != nil {
			if !old.complete {
				return false
			}
			c.unindex(old)
		}
	}
	e.expire = now + 2
	return c.insert(e, now)
}

// dropLocked is drop with the lock taken.
func (c *Cache) dropLocked(e *Entry) {
	c.mu.Lock()
	c.drop(e)
	c.mu.Unlock()
}

// appendHead writes the stored head: the status line and the headers
// but the Age one, and notes where the ETag value is.
func appendHead(b []byte, r *Response, skip int, e *Entry) []byte {
	b = append(b, r.StatusLine...)
	b = append(b, "\r\n"...)
	etagAt, etagLen := -1, 0
	for i := 0; i < r.Headers.Len(); i++ {
		if i == skip {
			continue
		}
		n, v := r.Headers.Header(i)
		b = append(b, n...)
		b = append(b, ": "...)
		if etagAt < 0 && equalFold(n, "etag") {
			etagAt, etagLen = len(b), len(v)
		}
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	if etagAt >= 0 {
		e.etag = b[etagAt : etagAt+etagLen : etagAt+etagLen]
	}
	return b
}

// drop forgets an object being written. The lock is held.
func (c *Cache) drop(e *Entry) {
	c.unindex(e)
	if !e.complete {
		c.used -= e.blocks
		c.hot -= e.blocks
		e.blocks = 0
	}
}

// Writer fills an object with the response as it is written to the
// client: it skips the head (the stored one is the head as cache-store
// saw it), then keeps the body until its end, where the object becomes
// usable. It gives up, dropping the object, when it would outgrow
// max-object-size or the cache.
type Writer struct {
	c *Cache
	e *Entry
	// eoh counts the bytes of "\r\n\r\n" matched so far; inBody says the
	// head was passed.
	eoh    int
	inBody bool
	// remain is what a Content-Length body still has to bring.
	remain int64
	ch     chunkEnd
	done   bool
	// fed says the body comes through Feed; charged that the data block
	// of the current write is counted.
	fed, charged bool
}

// Write takes the next bytes written to the client.
func (w *Writer) Write(bufs [][]byte) {
	if w == nil || w.done || w.fed {
		return
	}
	// What one write carries is one HTX data block in HAProxy's count.
	w.charged = false
	for _, b := range bufs {
		if !w.inBody {
			i := w.skipHead(b)
			if !w.inBody {
				continue
			}
			b = b[i:]
			if !w.e.Chunked && w.remain == 0 {
				w.finish(true)
				return
			}
		}
		if len(b) == 0 {
			continue
		}
		if !w.keep(b) {
			return
		}
	}
}

// skipHead consumes head bytes of b and returns where the body starts.
func (w *Writer) skipHead(b []byte) int {
	const eoh = "\r\n\r\n"
	for i, c := range b {
		switch {
		case c == eoh[w.eoh]:
			w.eoh++
		case c == '\r':
			w.eoh = 1
		default:
			w.eoh = 0
		}
		if w.eoh == 4 {
			w.inBody = true
			return i + 1
		}
	}
	return len(b)
}

// keep appends body bytes to the object: the data of a chunked body
// without its framing.
func (w *Writer) keep(b []byte) bool {
	e := w.e
	end := false
	n := len(b)
	if !e.Chunked {
		n = int(min(int64(n), w.remain))
		w.remain -= int64(n)
		end = w.remain == 0
		return w.add(b[:n], end)
	}
	for len(b) > 0 && !end {
		var data []byte
		n, data, end = w.ch.scan(b)
		b = b[n:]
		if len(data) > 0 || end {
			if !w.add(data, end) {
				return false
			}
		}
	}
	return !end
}

// add appends data to the object, which ends with end; it reports
// whether the object goes on.
func (w *Writer) add(data []byte, end bool) bool {
	e, c := w.e, w.c
	if len(data) > 0 {
		size := e.size + len(data)
		if !w.charged {
			size += 4
			w.charged = true
		}
		c.mu.Lock()
		ok := e.indexed && c.reserve(e, size)
		if ok {
			// "show cache" reads the size of objects being written.
			e.size = size
		}
		c.mu.Unlock()
		if !ok {
			w.finish(false)
			return false
		}
		e.Body = append(e.Body, data...)
	}
	if end {
		w.finish(true)
		return false
	}
	return true
}

// Feed gives the object body data directly, when what the client
// receives is not the body (it is compressed on the way); the tap is
// then ignored. end says the body ends there.
func (w *Writer) Feed(data []byte, end bool) {
	if w == nil || w.done {
		return
	}
	w.fed = true
	w.add(data, end)
}

// NextRead says the data fed next comes from another read: HAProxy
// counts it in another data block.
func (w *Writer) NextRead() {
	if w != nil {
		w.charged = false
	}
}

// finish makes the object usable, or drops it.
func (w *Writer) finish(ok bool) {
	if w.done {
		return
	}
	w.done = true
	c, e := w.c, w.e
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok || !e.indexed {
		c.drop(e)
		return
	}
	e.Body = e.Body[:len(e.Body):len(e.Body)]
	if e.Chunked {
		// HAProxy's end-of-trailers block.
		e.size += 4 + 1
	}
	e.complete = true
	c.hot -= e.blocks
	c.lru.push(e)
}

// Close ends the transaction: an object whose body did not end is
// dropped.
func (w *Writer) Close() {
	if w != nil {
		w.finish(false)
	}
}

// chunkEnd follows the chunked framing gohap writes to find the end of
// the body: hex sizes, data, the last chunk, trailers, the empty line.
type chunkEnd struct {
	st   uint8
	size uint64
}

const (
	ceSize = iota
	ceSizeLF
	ceData
	ceDataCR
	ceDataLF
	ceTrailerStart
	ceTrailer
	ceFinalLF
	ceDone
)

// scan consumes b up to the end of its first run of data, returning
// how much it consumed, that data, and whether the body ended.
func (c *chunkEnd) scan(b []byte) (int, []byte, bool) {
	for i := 0; i < len(b); i++ {
		ch := b[i]
		switch c.st {
		case ceSize:
			switch {
			case ch == '\r':
				c.st = ceSizeLF
			case ch >= '0' && ch <= '9':
				c.size = c.size<<4 | uint64(ch-'0')
			case ch >= 'A' && ch <= 'F':
				c.size = c.size<<4 | uint64(ch-'A'+10)
			case ch >= 'a' && ch <= 'f':
				c.size = c.size<<4 | uint64(ch-'a'+10)
			}
		case ceSizeLF:
			if c.size == 0 {
				c.st = ceTrailerStart
			} else {
				c.st = ceData
			}
		case ceData:
			n := min(uint64(len(b)-i), c.size)
			c.size -= n
			if c.size == 0 {
				c.st = ceDataCR
			}
			return i + int(n), b[i : i+int(n)], false
		case ceDataCR:
			c.st = ceDataLF
		case ceDataLF:
			c.st = ceSize
		case ceTrailerStart:
			if ch == '\r' {
				c.st = ceFinalLF
			} else {
				c.st = ceTrailer
			}
		case ceTrailer:
			if ch == '\n' {
				c.st = ceTrailerStart
			}
		case ceFinalLF:
			c.st = ceDone
			return i + 1, nil, true
		}
	}
	return len(b), nil, false
}
