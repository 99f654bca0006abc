package logging

import "time"

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// meta is what HAProxy's __send_log() puts in the header metadata.
type meta struct {
	host []byte // log-send-hostname, empty when not sent
	tag  []byte
	pid  []byte
	sd   []byte // structured data, trailing spaces removed
}

// resolveFormat mirrors build_log_header() for LOG_FORMAT_UNSPEC: the
// timestamp metadata is never set for locally produced logs.
func resolveFormat(f SyslogFormat, m *meta) SyslogFormat {
	if f != SyslogUnspec {
		return f
	}
	switch {
	case len(m.host) > 0:
		return SyslogRFC3164
	case len(m.tag) > 0:
		return SyslogLocal
	}
	return SyslogRaw
}

// elems records where each of HAProxy's header iovec elements ends: a
// datagram cut inside the header loses the whole element it falls in.
type elems struct {
	n    int
	ends [16]int
}

func (e *elems) mark(dst []byte) {
	if e != nil && e.n < len(e.ends) {
		e.ends[e.n] = len(dst)
		e.n++
	}
}

// appendHeader appends the syslog header of format f, as
// build_log_header() lays it out, noting element ends in e when not nil.
func appendHeader(dst []byte, f SyslogFormat, level Level, facility int, m *meta, now time.Time, e *elems) []byte {
	f = resolveFormat(f, m)
	switch f {
	case SyslogLocal, SyslogRFC3164, SyslogRFC5424, SyslogPriority:
		dst = appendPri(dst, facility<<3+int(level))
		e.mark(dst)
	case SyslogTimed, SyslogShort:
		dst = appendPri(dst, int(level))
		e.mark(dst)
	}
	switch f {
	case SyslogLocal, SyslogRFC3164:
		dst = appendLegacyTime(dst, now)
		e.mark(dst)
	case SyslogRFC5424:
		dst = append(dst, "1 "...)
		e.mark(dst)
		dst = appendISOTime(dst, now)
		e.mark(dst)
	case SyslogTimed, SyslogISO:
		dst = appendISOTime(dst, now)
		e.mark(dst)
	}
	// field appends a metadata element and its separator as two elements.
	field := func(dst, v []byte, sep string) []byte {
		dst = append(dst, v...)
		e.mark(dst)
		dst = append(dst, sep...)
		e.mark(dst)
		return dst
	}
	switch f {
	case SyslogRFC3164:
		if len(m.host) > 0 {
			dst = field(dst, m.host, " ")
		} else {
			dst = append(dst, "localhost "...)
			e.mark(dst)
		}
		fallthrough
	case SyslogLocal:
		if len(m.tag) == 0 {
			break
		}
		dst = append(dst, m.tag...)
		e.mark(dst)
		if len(m.pid) > 0 {
			dst = append(dst, '[')
			e.mark(dst)
			dst = field(dst, m.pid, "]")
		}
		dst = append(dst, ": "...)
		e.mark(dst)
	case SyslogRFC5424:
		for _, v := range [...][]byte{m.host, m.tag, m.pid, nil, m.sd} {
			if len(v) > 0 {
				dst = field(dst, v, " ")
			} else {
				dst = append(dst, "- "...)
				e.mark(dst)
			}
		}
	}
	return dst
}

func appendPri(dst []byte, pri int) []byte {
	dst = append(dst, '<')
	dst = appendUint(dst, uint64(pri))
	return append(dst, '>')
}

// appendLegacyTime writes "Mmm dd hh:mm:ss " in local time.
func appendLegacyTime(dst []byte, now time.Time) []byte {
	return append(dst, secondOf(now.Local()).legacy...)
}

// appendClock writes "hh:mm:ss".
func appendClock(dst []byte, h, m, s int) []byte {
	dst = appendPad(dst, uint64(h), 2)
	dst = append(dst, ':')
	dst = appendPad(dst, uint64(m), 2)
	dst = append(dst, ':')
	return appendPad(dst, uint64(s), 2)
}

// appendISOTime writes "YYYY-mm-ddTHH:MM:SS.uuuuuu+hh:mm " in local time
// (timeofday_as_iso_us(1)).
func appendISOTime(dst []byte, now time.Time) []byte {
	t := now.Local()
	y, mon, day := t.Date()
	h, mi, s := t.Clock()
	dst = appendPad(dst, uint64(y), 4)
	dst = append(dst, '-')
	dst = appendPad(dst, uint64(mon), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, uint64(day), 2)
	dst = append(dst, 'T')
	dst = appendClock(dst, h, mi, s)
	dst = append(dst, '.')
	dst = appendPad(dst, uint64(t.Nanosecond()/1000), 6)
	var off [5]byte
	gmtOffset(&off, t)
	dst = append(dst, off[0], off[1], off[2], ':', off[3], off[4])
	return append(dst, ' ')
}

// gmtOffset writes "+hhmm" / "-hhmm" for t's zone (get_gmt_offset()).
func gmtOffset(out *[5]byte, t time.Time) {
	_, off := t.Zone()
	out[0] = '+'
	if off < 0 {
		out[0] = '-'
		off = -off
	}
	off %= 86400
	h, m := off/3600, (off%3600)/60
	out[1], out[2] = byte('0'+h/10), byte('0'+h%10)
	out[3], out[4] = byte('0'+m/10), byte('0'+m%10)
}

func appendUint(dst []byte, n uint64) []byte {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// appendPad writes n on at least width digits, zero-padded.
func appendPad(dst []byte, n uint64, width int) []byte {
	var b [20]byte
	i := len(b)
	for n > 0 || len(b)-i < width {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, b[i:]...)
}
