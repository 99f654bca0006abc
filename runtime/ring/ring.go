package ring

import "sync"

// MaxReaders is the number of readers a ring accepts at once.
const MaxReaders = 255

// Ring is a buffer of messages laid out as HAProxy's: a counter byte,
// then for each message its varint length, its bytes and another
// counter byte. The oldest messages make room for new ones, except one a
// reader still has to read: the new message is then dropped. The zero
// value is not usable; call New.
type Ring struct {
	mu   sync.Mutex
	buf  []byte
	head int // index of the first byte
	data int // bytes in use, the first counter byte included
	// ofs is the absolute offset of the first byte: readers keep
	// absolute offsets, valid while they hold their counter byte.
	ofs uint64
	// pins counts the readers waiting at each counter byte.
	pins    map[uint64]int
	readers int
	wake    chan struct{}
}

// New returns an empty ring of size bytes (at least 2).
func New(size int) *Ring {
	size = max(size, 2)
	return &Ring{buf: make([]byte, size), data: 1, pins: map[uint64]int{}}
}

// Size is the ring's size in bytes.
func (r *Ring) Size() int { return len(r.buf) }

// varintBytes is the length of v in HAProxy's varint encoding.
func varintBytes(v int) int {
	n := 1
	if v >= 240 {
		v = (v - 240) >> 4
		for {
			n++
			if v < 128 {
				break
			}
			v = (v - 128) >> 7
		}
	}
	return n
}

func (r *Ring) at(rel int) int { return (r.head + rel) % len(r.buf) }

func (r *Ring) putByte(c byte) {
	r.buf[r.at(r.data)] = c
	r.data++
}

func (r *Ring) putVarint(v int) {
	if v >= 240 {
		r.putByte(byte(v) | 240)
		v = (v - 240) >> 4
		for v >= 128 {
			r.putByte(byte(v) | 128)
			v = (v - 128) >> 7
		}
	}
	r.putByte(byte(v))
}

// peekVarint decodes the varint at rel: its value and length.
func (r *Ring) peekVarint(rel int) (v, n int) {
	c := int(r.buf[r.at(rel)])
	n = 1
	v = c
	if c < 240 {
		return v, n
	}
	for bits := 4; ; bits += 7 {
		if rel+n >= r.data {
			return 0, 0
		}
		c = int(r.buf[r.at(rel+n)])
		n++
		v += c << bits
		if c < 128 {
			return v, n
		}
	}
}

func (r *Ring) putBlock(b []byte) {
	for len(b) > 0 {
		i := r.at(r.data)
		n := copy(r.buf[i:], b)
		r.data += n
		b = b[n:]
	}
}

// getBlock appends n bytes from rel to dst.
func (r *Ring) getBlock(dst []byte, rel, n int) []byte {
	for n > 0 {
		i := r.at(rel)
		m := min(n, len(r.buf)-i)
		dst = append(dst, r.buf[i:i+m]...)
		rel += m
		n -= m
	}
	return dst
}

// Write adds pfx then msg as one message cut to maxlen bytes, as
// ring_write(). It reports false, writing nothing, when the message can
// never fit or when a reader holds the oldest message. It never waits.
func (r *Ring) Write(maxlen int, pfx, msg []byte) bool {
	tot := min(len(pfx)+len(msg), maxlen)
	ll := varintBytes(tot)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ll+tot+2 > len(r.buf) {
		return false
	}
	for len(r.buf)-r.data < ll+tot+1 {
		if r.pins[r.ofs] > 0 {
			return false
		}
		n, nl := r.peekVarint(1)
		if nl == 0 {
			return false
		}
		del := 1 + nl + n
		r.head = r.at(del)
		r.data -= del
		r.ofs += uint64(del)
	}
	r.putVarint(tot)
	p := pfx[:min(len(pfx), tot)]
	r.putBlock(p)
	r.putBlock(msg[:tot-len(p)])
	r.putByte(0)
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
	return true
}

// Wait returns a channel closed by the next Write.
func (r *Ring) Wait() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wake == nil {
		r.wake = make(chan struct{})
	}
	return r.wake
}

// Reader reads a ring's messages in order. A started reader keeps the
// message it reads next from being overwritten.
type Reader struct {
	r       *Ring
	pos     uint64
	started bool
}

// Attach returns a new reader, or nil when MaxReaders already read the
// ring.
func (r *Ring) Attach() *Reader {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.readers >= MaxReaders {
		return nil
	}
	r.readers++
	return &Reader{r: r}
}

// Start places the reader at the oldest message, or after the newest
// when seekNew is set ("show events -n").
func (rd *Reader) Start(seekNew bool) {
	r := rd.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd.started {
		return
	}
	rd.pos = r.ofs
	if seekNew {
		rd.pos += uint64(r.data - 1)
	}
	r.pins[rd.pos]++
	rd.started = true
}

// Started reports whether Start was called.
func (rd *Reader) Started() bool { return rd.started }

// Read calls fn with each message from the reader's position, in order,
// until fn returns false (the message is then read again next time). The
// message is only valid during the call. A message longer than skip
// bytes is passed over, as readers whose buffer cannot hold it do.
func (rd *Reader) Read(skip int, fn func(msg []byte) bool) {
	r := rd.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !rd.started {
		return
	}
	r.unpin(rd.pos)
	rel := int(rd.pos - r.ofs)
	var tmp []byte
	for rel+1 < r.data {
		n, nl := r.peekVarint(rel + 1)
		if nl == 0 {
			break
		}
		if n <= skip {
			tmp = r.getBlock(tmp[:0], rel+1+nl, n)
			if !fn(tmp) {
				break
			}
		}
		rel += 1 + nl + n
	}
	rd.pos = r.ofs + uint64(rel)
	r.pins[rd.pos]++
}

func (r *Ring) unpin(pos uint64) {
	if r.pins[pos]--; r.pins[pos] <= 0 {
		delete(r.pins, pos)
	}
}

// Detach releases the reader and the message it held.
func (rd *Reader) Detach() {
	r := rd.r
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rd.started {
		r.unpin(rd.pos)
	}
	r.readers--
	rd.r = nil
}
