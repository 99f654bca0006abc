package h2

import (
	"math/rand"
	"testing"
)

// The table answers as a map would through any sequence of opens,
// lookups and closes: streams in flight a few at a time, and old ones
// outliving many newer (the side map, growth up to maxSlots).
func TestStreamTable(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewSource(seed))
		var tab streamTable
		model := map[uint32]*Stream{}
		next := uint32(1)
		var open []uint32
		for op := 0; op < 20000; op++ {
			switch k := r.Intn(10); {
			case k < 4 && len(model) < 2000:
				id := next
				next += 2
				st := &Stream{id: id}
				tab.put(id, st)
				model[id] = st
				open = append(open, id)
			case k < 7 && len(open) > 0:
				// Mostly the oldest goes first; now and then any.
				i := 0
				if r.Intn(4) == 0 {
					i = r.Intn(len(open))
				}
				id := open[i]
				open = append(open[:i], open[i+1:]...)
				if !tab.del(id) {
					t.Fatalf("seed %d: open stream %d not deleted", seed, id)
				}
				delete(model, id)
				if tab.del(id) {
					t.Fatalf("seed %d: stream %d deleted twice", seed, id)
				}
			default:
				id := uint32(r.Intn(int(next)+64)) | 1
				if got, want := tab.get(id), model[id]; got != want {
					t.Fatalf("seed %d: get(%d) = %p, want %p", seed, id, got, want)
				}
			}
			if tab.n != len(model) {
				t.Fatalf("seed %d: %d streams, want %d", seed, tab.n, len(model))
			}
		}
		seen := map[uint32]bool{}
		tab.each(func(id uint32, st *Stream) {
			if model[id] != st || seen[id] {
				t.Fatalf("seed %d: each gave %d (%p)", seed, id, st)
			}
			seen[id] = true
			tab.del(id)
		})
		if len(seen) != len(model) || tab.n != 0 {
			t.Fatalf("seed %d: each saw %d of %d streams, %d left", seed, len(seen), len(model), tab.n)
		}
	}
}

// A long-lived stream keeps its slot while newer ones wrap around it.
func TestStreamTableOverflow(t *testing.T) {
	var tab streamTable
	old := &Stream{id: 1}
	tab.put(1, old)
	for id := uint32(3); id < 4*maxSlots; id += 2 {
		tab.put(id, &Stream{id: id})
		if tab.get(1) != old {
			t.Fatalf("stream 1 lost after %d", id)
		}
		tab.del(id)
	}
	if len(tab.slots) != minSlots || tab.more != nil {
		t.Fatalf("one stream at a time beside an old one: %d slots, side map %v", len(tab.slots), tab.more)
	}
	for id := uint32(3); id < 4*maxSlots; id += 2 {
		tab.put(id, &Stream{id: id})
	}
	if len(tab.slots) != maxSlots || len(tab.more) == 0 {
		t.Fatalf("%d streams in flight: %d slots, %d on the side", tab.n, len(tab.slots), len(tab.more))
	}
	for id := uint32(1); id < 4*maxSlots; id += 2 {
		if st := tab.get(id); st == nil || st.id != id {
			t.Fatalf("stream %d: %v", id, st)
		}
	}
}
