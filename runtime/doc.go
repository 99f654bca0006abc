// Package runtime turns a parsed configuration into what gohap runs: the
// cross-reference checks (HAProxy's phase 2), the refusal of keywords the
// engine does not implement, the compiled graph of frontends, backends
// and servers, and the engine that serves it.
//
// The engine runs one goroutine per client connection. Its I/O follows
// HAProxy's poller rather than Go's read-first habit: a client's next
// request head, and a server's answer to a request sent whole, are read
// once the socket reports readiness, inside RawConn.Read, so that a read
// which would fail with EAGAIN is not made. Go's poller wakes the
// goroutines of one poll last-ready first; with one P, readyOrder puts
// them back in ready order, which keeps latency as even as HAProxy's.
package runtime
