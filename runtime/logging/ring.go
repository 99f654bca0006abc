package logging

import (
	"strconv"
	"time"
)

// sendRing writes a line into the target's ring, as __do_send_log() and
// sink_write() do: the message is cut to the target's "len", gets the
// ring's header (with the target's facility) and is cut to the ring's
// maxlen. A line the ring cannot take is dropped and counted; the next
// one that fits is preceded by "N events dropped". It never waits for a
// reader.
func (l *Logger) sendRing(t *target, level Level, m *meta, msg []byte, now time.Time) {
	s := t.sink
	bp, _ := l.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 256)
		bp = &b
	}
	defer l.bufs.Put(bp)
	if s.Dropped() > 0 && !l.announceDropped(t, m, bp, now) {
		s.Drop()
		l.dropped.Add(1)
		return
	}
	msg = msg[:min(len(msg), t.cfg.MaxLen)]
	s.Announce.RLock()
	hdr := appendHeader((*bp)[:0], s.Format, level, t.cfg.Facility, m, now, nil)
	ok := s.Ring.Write(s.MaxLen, hdr, msg)
	s.Announce.RUnlock()
	*bp = hdr
	if !ok {
		s.Drop()
		l.dropped.Add(1)
	}
}

// announceDropped writes "N event(s) dropped" at level notice, as
// sink_announce_dropped(); it reports false when the ring had no room.
func (l *Logger) announceDropped(t *target, m *meta, bp *[]byte, now time.Time) bool {
	s := t.sink
	s.Announce.Lock()
	defer s.Announce.Unlock()
	for n := s.Dropped(); n > 0; n = s.Dropped() {
		hdr := appendHeader((*bp)[:0], s.Format, LevelNotice, t.cfg.Facility, m, now, nil)
		text := strconv.AppendUint(hdr[len(hdr):], uint64(n), 10)
		text = append(text, " event"...)
		if n > 1 {
			text = append(text, 's')
		}
		text = append(text, " dropped"...)
		*bp = hdr[:0]
		if !s.Ring.Write(s.MaxLen, hdr, text) {
			return false
		}
		s.Announced(n)
	}
	return true
}
