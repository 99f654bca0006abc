package runtime

import (
	"strconv"
	"time"

	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/promex"
)

// promexAnswer is "http-request use-service prometheus-exporter": the
// proxy answers the request with its metrics (promex_appctx_handle_io).
// HAProxy sends them chunked whatever the client's version; HEAD gets the
// head alone. A query it cannot read gets HAProxy's own 400 page (not
// the proxy's errorfile), and the connection closes. http-after-response
// rules apply; the connection header comes after them, as the h1 mux
// adds it. It returns whether the connection goes on.
func (s *session) promexAnswer(head []byte) bool {
	req := &s.req
	q, ok := promex.ParseQuery(string(req.URI.Of(head)))
	keep := ok && s.clientKeepAlive() && s.skipBufferedBody() && !s.e.stopping.Load()
	// The log shows the applet as the server, reached at once, and the
	// answer as the proxy's own (termination flags "LR").
	now := time.Now()
	s.lt.queue, s.lt.connect, s.lt.rsp = now, now, now
	s.logApplet = "<PROMEX>"
	if be := s.be; be != nil {
		// A backend's rule: the stream is the backend's, as for the
		// stats page.
		s.assignBe(be)
	}
	s.txFlags = logging.SFErrLocal | logging.SFFinstR
	var page []byte
	if ok {
		s.e.g.feCounters(s.fe).addIntercepted()
		s.txStatus = 200
		page = s.afterAnswer([]byte(promex.Head + "\r\n"))
	} else {
		s.txStatus = 400
		page = s.afterAnswer((*errorSet)(nil).stream(400, false))
	}
	switch {
	case !keep:
		page = insertHeader(page, "connection: close")
	case req.Minor == 0:
		page = insertHeader(page, "connection: keep-alive")
	}
	s.setReply(page)
	// The log counts the bytes of HAProxy's internal message: the 400
	// message keeps its "Connection: close" header, the metrics have no
	// chunk framing, and a HEAD request has them dumped all the same.
	adjust := func(wire, htx int) {
		if s.rspWire != 0 {
			s.rspWire, s.rspHTX = s.rspWire+wire, s.rspHTX+htx
		}
	}
	if !ok {
		adjust(0, len("connection")+len("close"))
	} else {
		body := promex.Render(nil, s.e.statsSnapshot(), s.e.promexTables(), q)
		if string(req.Method.Of(head)) == "HEAD" {
			adjust(0, len(body))
		} else {
			n := len(page)
			if len(body) > 0 {
				page = strconv.AppendUint(page, uint64(len(body)), 16)
				page = append(page, "\r\n"...)
				page = append(page, body...)
				page = append(page, "\r\n"...)
			}
			page = append(page, "0\r\n\r\n"...)
			adjust(len(page)-n-len(body), 0)
		}
	}
	if err := s.cl.send(s.fe.caseCli.adjusted(page)); err != nil {
		return false
	}
	return keep
}

// promexTables lists the stick tables as HAProxy's stktables_list does:
// the last declared first.
func (e *Engine) promexTables() []promex.Table {
	if e.g.tables == nil {
		return nil
	}
	all := e.g.tables.All()
	out := make([]promex.Table, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		t := all[i]
		out = append(out, promex.Table{Name: t.Name(), Type: t.Type().String(), Size: int(t.Config().Size), Used: t.Used()})
	}
	return out
}
