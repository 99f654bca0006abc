package logging

// AppendConnect renders the line HAProxy sends for each accepted
// connection of a frontend that has log targets but no log format
// (frontend.c); it is sent at level info.
func AppendConnect(dst []byte, r *Record, http bool) []byte {
	mode := "TCP"
	if http {
		mode = "HTTP"
	}
	switch {
	case r.ClientUnix:
		dst = append(dst, "Connect to unix:"...)
		dst = appendInt(dst, int64(r.ListenerID))
	case !r.Client.IsValid():
		dst = append(dst, "Connect from unknown source to listener "...)
		dst = appendInt(dst, int64(r.ListenerID))
	default:
		dst = append(dst, "Connect from "...)
		dst = r.Client.Addr().WithZone("").AppendTo(dst)
		dst = append(dst, ':')
		dst = appendUint(dst, uint64(r.Client.Port()))
		dst = append(dst, " to "...)
		if r.Frontend.IsValid() {
			dst = r.Frontend.Addr().WithZone("").AppendTo(dst)
			dst = append(dst, ':')
			dst = appendUint(dst, uint64(r.Frontend.Port()))
		} else {
			dst = append(dst, "undetermined address:0"...)
		}
	}
	dst = append(dst, " ("...)
	dst = append(dst, r.FrontendName...)
	dst = append(dst, '/')
	dst = append(dst, mode...)
	return append(dst, ')')
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		return appendUint(append(dst, '-'), uint64(-n))
	}
	return appendUint(dst, uint64(n))
}
