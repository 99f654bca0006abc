package logging

import (
	"net/netip"
	"time"
)

// AppendConnError renders the line HAProxy 2.6 sends when a connection
// fails before it becomes a stream (session_kill_embryonic): the client,
// the accept date, the frontend and the listener (its name, else its
// id), then the connection error's message. A unix socket's client is
// "unix" and the listener's id.
func AppendConnError(dst []byte, client netip.AddrPort, unix bool, accept time.Time, frontend, listener string, listenerID int, msg string) []byte {
	if unix {
		dst = append(dst, "unix:"...)
		dst = appendInt(dst, int64(listenerID))
		dst = append(dst, " ["...)
	} else if client.IsValid() {
		dst = client.Addr().WithZone("").AppendTo(dst)
		dst = append(dst, ':')
		dst = appendUint(dst, uint64(client.Port()))
		dst = append(dst, " ["...)
	} else {
		dst = append(dst, "unknown ["...)
	}
	l := line{b: dst}
	t := accept.Local()
	l.dayTime(t)
	l.b = append(l.b, '.')
	l.b = appendPad(l.b, uint64(t.Nanosecond()/1e6), 3)
	dst = append(l.b, "] "...)
	dst = append(dst, frontend...)
	dst = append(dst, '/')
	if listener != "" {
		dst = append(dst, listener...)
	} else {
		dst = appendInt(dst, int64(listenerID))
	}
	dst = append(dst, ": "...)
	return append(dst, msg...)
}
