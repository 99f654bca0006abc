package runtime

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gohap/gohap/runtime/h1"
	"github.com/gohap/gohap/runtime/logging"
)

// rspCacheable is HAProxy's TX_CACHEABLE and TX_CACHE_COOK for the
// response rsp (head rhead) to a request whose method is safe or not
// (GET, HEAD, OPTIONS, TRACE): a cacheable status, then Pragma and
// Cache-Control. A response with neither freshness (max-age, s-maxage,
// Expires) nor validator (ETag, Last-Modified) is HAProxy 2.6's
// TX_CACHE_IGNORE, which neither checkcache nor a nocache cookie treats
// as cacheable.
func rspCacheable(safe bool, rsp *h1.Msg, rhead []byte) (cacheable, cook bool) {
	if rsp.Status < 200 {
		return false, false
	}
	cacheable = safe
	switch rsp.Status {
	case 200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501:
	default:
		cacheable = false
	}
	cook = cacheable
	fresh, validator, pragmaSeen := false, false, false
	for _, h := range rsp.Headers {
		name, v := h.Name.Of(rhead), h.Value.Of(rhead)
		switch {
		case !pragmaSeen && h1.EqualFold(name, "pragma"):
			// Only the first one, whole.
			pragmaSeen = true
			if h1.EqualFold(v, "no-cache") {
				return false, false
			}
		case h1.EqualFold(name, "cache-control"):
			for _, item := range bytes.Split(v, []byte(",")) {
				item = bytes.TrimSpace(item)
				switch {
				case h1.EqualFold(item, "public"):
					cacheable, cook = true, true
				case h1.EqualFold(item, "private"), h1.EqualFold(item, "no-cache"), h1.EqualFold(item, "no-store"),
					h1.EqualFold(item, "max-age=0"), h1.EqualFold(item, "s-maxage=0"):
					cacheable, cook = false, false
				case hasPrefixFold(item, `no-cache="set-cookie`):
					cook = false
				case hasPrefixFold(item, "s-maxage"), hasPrefixFold(item, "max-age"):
					fresh = true
				}
			}
		case h1.EqualFold(name, "expires"):
			fresh = true
		case h1.EqualFold(name, "etag"), h1.EqualFold(name, "last-modified"):
			validator = true
		}
	}
	if !fresh && !validator {
		return false, cook
	}
	return cacheable, cook
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && h1.EqualFold(b[:len(p)], p)
}

// hasSetCookie says whether the server's response sets a cookie
// (TX_SCK_PRESENT).
func hasSetCookie(rsp *h1.Msg, rhead []byte) bool {
	for _, h := range rsp.Headers {
		if n := h.Name.Of(rhead); h1.EqualFold(n, "set-cookie") || h1.EqualFold(n, "set-cookie2") {
			return true
		}
	}
	return false
}

// safeMethod is a method after which a response may be cached.
func safeMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

// checkCache is option checkcache and the nocache cookie option, after
// the http-response rules: a cacheable response that gets the inserted
// cookie gets "Cache-Control: private" too (noted in ckPrivate); one
// that sets a cookie itself and is still cacheable is blocked. blocked
// says it was, and keep whether the client connection goes on.
// bodyIn is how much of the response's body is already in.
//
// Not inlined: serveTxn's frame, on every stream's stack, would carry its
// locals for streams that skip it.
//
//go:noinline
func (s *session) checkCache(be *Backend, method, rhead []byte, bodyIn int, keepAfter bool) (blocked, keep bool) {
	rsp := &s.rsp
	s.ckPrivate = false
	insert := s.ckInsert && s.ck.noCache && rsp.Status >= 200 && !(s.ckSrvSet && s.ck.preserve)
	if !be.checkCache && !insert {
		return false, false
	}
	cacheable, cook := rspCacheable(safeMethod(method), rsp, rhead)
	if insert && cacheable {
		s.ckPrivate = true
		cacheable, cook = false, false
	}
	if !be.checkCache || !cacheable || !cook || !hasSetCookie(rsp, rhead) {
		return false, false
	}
	srv := s.svSrv
	name := "<dispatch>"
	if srv != nil && srv != be.LB.Target {
		name = srv.Name
	}
	msg := fmt.Sprintf("Blocking cacheable cookie in response from instance %s, server %s.", be.Name, name)
	s.e.log.Error(msg)
	be.event(logging.LevelAlert, msg)
	s.countDenied(true)
	s.closeServer()
	status := rsp.Status
	page := status
	if _, ok := streamErrors[page]; !ok {
		// A status without a page of its own gets the 500 one.
		page = 500
	}
	// HAProxy's byte count has the blocked response as its message held
	// it, the head and the body data already in, before the page.
	held := htxHeadSize(rhead, rsp, false)
	if rsp.Body == h1.BodyLength {
		held += int(min(int64(bodyIn), rsp.Length))
	}
	keep = s.pageReply(s.errors(), page, keepAfter)
	s.rspHTX += held
	s.txStatus, s.txFlags = status, logging.SFErrPrxCond|logging.SFFinstH
	s.lt.rsp = time.Time{}
	return true, keep
}
