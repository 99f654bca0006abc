package backend

import "sort"

// srvEWeightRange is HAProxy's SRV_EWGHT_RANGE: a server's tree nodes
// are keyed from its id times this range.
const srvEWeightRange = uwghtRange * weightScale

type chNode struct {
	key uint32
	s   *Server
}

// chashTree is HAProxy's consistent hashing tree (lb_chash.c): each
// server appears eweight times, at keys derived from its id, so that the
// same key lands on the same server as under HAProxy.
type chashTree struct {
	nodes []chNode
	// last is the node the round robin fallback used last, -1 for none.
	last    int
	lastKey uint32
	lastSrv *Server
}

func (t *chashTree) build(grp []*Server) {
	t.nodes = t.nodes[:0]
	for _, s := range grp {
		for i := 0; i < s.eweight; i++ {
			t.nodes = append(t.nodes, chNode{FullHash(uint32(s.ID*srvEWeightRange + i)), s})
		}
	}
	// Equal keys keep their insertion order, as in an eb32 tree.
	sort.SliceStable(t.nodes, func(i, j int) bool { return t.nodes[i].key < t.nodes[j].key })
	t.last = -1
	if t.lastSrv != nil {
		i := sort.Search(len(t.nodes), func(i int) bool { return t.nodes[i].key >= t.lastKey })
		for j := i; j < len(t.nodes) && t.nodes[j].key == t.lastKey; j++ {
			if t.nodes[j].s == t.lastSrv {
				t.last = j
			}
		}
		if t.last < 0 {
			t.last = i - 1
		}
	}
}

// lookup is chash_get_server_hash: the server whose node is the closest
// to h, skipping those the bounded-load check refuses.
func (t *chashTree) lookup(h uint32, eligible func(*Server) bool) *Server {
	n := len(t.nodes)
	if n == 0 {
		return nil
	}
	next := sort.Search(n, func(i int) bool { return t.nodes[i].key >= h })
	if next == n {
		next = 0
	}
	prev := next - 1
	if prev < 0 {
		prev = n - 1
	}
	if h-t.nodes[prev].key <= t.nodes[next].key-h {
		next = prev
	}
	if eligible == nil {
		return t.nodes[next].s
	}
	for loop := 0; !eligible(t.nodes[next].s); {
		next++
		if next == n {
			next = 0
			if loop++; loop > 1 {
				break
			}
		}
	}
	return t.nodes[next].s
}

// next is chash_get_next_server, the round robin used when a request
// lacks the hashed key: the nodes in key order, skipping full servers
// and avoid unless it is the only one left.
func (t *chashTree) next(avoid *Server) *Server {
	n := len(t.nodes)
	if n == 0 {
		return nil
	}
	stop, node := t.last, t.last
	avoidedNode := -1
	for {
		if node >= 0 {
			node++
			if node == n {
				node = -1
			}
		}
		if node < 0 {
			node = 0
		}
		t.last = node
		t.lastKey, t.lastSrv = t.nodes[node].key, t.nodes[node].s
		if stop < 0 {
			stop = node
		}
		if s := t.nodes[node].s; s.Maxconn == 0 || len(s.queue) == 0 && s.cur < s.dynMaxconn() {
			if s != avoid {
				return s
			}
			avoidedNode = node
		}
		if node == stop {
			if avoidedNode < 0 {
				return nil
			}
			t.last = avoidedNode
			t.lastKey, t.lastSrv = t.nodes[avoidedNode].key, avoid
			return avoid
		}
	}
}

// eligible is chash_server_is_eligible, HAProxy's consistent hashing with
// bounded loads ("hash-balance-factor").
func (b *Backend) eligible(s *Server) bool {
	served, tot, cum := 0, 0, 0
	for _, x := range b.Servers {
		served += x.cur
	}
	for _, x := range b.groupKey {
		if x == s {
			cum = tot
		}
		tot += x.eweight
	}
	if tot == 0 {
		return true
	}
	slots := ((served+1)*b.BalanceFactor + 99) / 100
	per, rem := slots/tot, slots%tot
	n := s.eweight*per + (cum+s.eweight)*rem/tot - cum*rem/tot
	return s.cur < max(n, 1)
}
