package h2

// streamTable is a connection's open streams by identifier. A client's
// identifiers are odd and grow by two per stream, and the streams in
// flight at once are a run of recent ones: slot (id>>1) mod the table's
// size holds each, with no hashing and no allocation per stream, where a
// Go map spent some 500 instructions per stream on its insert, lookups
// and delete. A stream whose slot a live one holds (an old stream
// outlived the next len(slots) ones) goes to a map on the side, unless
// the table is over half full: then it grows first, up to maxSlots.
type streamTable struct {
	slots []streamSlot
	more  map[uint32]*Stream
	n     int // streams open, for the growth decision
}

type streamSlot struct {
	id uint32
	st *Stream
}

const (
	minSlots = 16
	maxSlots = 512
)

// get is the open stream id, or nil.
func (t *streamTable) get(id uint32) *Stream {
	if len(t.slots) > 0 {
		if s := &t.slots[int(id>>1)&(len(t.slots)-1)]; s.st != nil && s.id == id {
			return s.st
		}
	}
	if t.more != nil {
		return t.more[id]
	}
	return nil
}

// put adds stream id, which is not open.
func (t *streamTable) put(id uint32, st *Stream) {
	t.n++
	if len(t.slots) == 0 {
		t.slots = make([]streamSlot, minSlots)
	}
	for {
		s := &t.slots[int(id>>1)&(len(t.slots)-1)]
		if s.st == nil {
			*s = streamSlot{id, st}
			return
		}
		if len(t.slots) >= maxSlots || t.n <= len(t.slots)/2 {
			break
		}
		t.grow()
	}
	if t.more == nil {
		t.more = make(map[uint32]*Stream)
	}
	t.more[id] = st
}

// grow doubles the slots, moving the side map's streams into them where
// their slot is free.
func (t *streamTable) grow() {
	old := t.slots
	t.slots = make([]streamSlot, 2*len(old))
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.st != nil {
			t.slots[int(s.id>>1)&mask] = s
		}
	}
	for id, st := range t.more {
		if s := &t.slots[int(id>>1)&mask]; s.st == nil {
			*s = streamSlot{id, st}
			delete(t.more, id)
		}
	}
	if len(t.more) == 0 {
		t.more = nil
	}
}

// del removes stream id, reporting whether it was open.
func (t *streamTable) del(id uint32) bool {
	if len(t.slots) > 0 {
		if s := &t.slots[int(id>>1)&(len(t.slots)-1)]; s.st != nil && s.id == id {
			*s = streamSlot{}
			t.n--
			return true
		}
	}
	if _, ok := t.more[id]; ok {
		delete(t.more, id)
		if len(t.more) == 0 {
			t.more = nil
		}
		t.n--
		return true
	}
	return false
}

// each calls f on every open stream; f may delete the one it is given.
func (t *streamTable) each(f func(id uint32, st *Stream)) {
	for i := range t.slots {
		if s := t.slots[i]; s.st != nil {
			f(s.id, s.st)
		}
	}
	for id, st := range t.more {
		f(id, st)
	}
}
