package runtime

import (
	"strconv"

	"github.com/gohap/gohap/runtime/logging"
	"github.com/gohap/gohap/runtime/promex"
)

// promexAnswer is "http-request use-service prometheus-exporter": the
// proxy answers the request with its metrics (promex_appctx_handle_io).
// HAProxy sends them chunked whatever the client's version; HEAD gets the
// head alone. A query it cannot read gets HAProxy's 400 page, and the
// connection closes. It returns whether the connection goes on.
func (s *session) promexAnswer(head []byte) bool {
	req := &s.req
	q, ok := promex.ParseQuery(string(req.URI.Of(head)))
	if !ok {
		return s.errorReply(400, false)
	}
	s.e.g.feCounters(s.fe).addIntercepted()
	s.logApplet = "<PROMEX>"
	s.txStatus, s.txFlags = 200, logging.SFFinstR
	keep := req.KeepAlive() && s.skipBufferedBody() && !s.e.stopping.Load()
	out := []byte(promex.Head)
	switch {
	case !keep:
		out = append(out, "connection: close\r\n"...)
	case req.Minor == 0:
		out = append(out, "connection: keep-alive\r\n"...)
	}
	out = append(out, "\r\n"...)
	out = s.afterAnswer(out)
	s.setReply(out)
	if string(req.Method.Of(head)) != "HEAD" {
		body := promex.Render(nil, s.e.statsSnapshot(), s.e.promexTables(), q)
		if len(body) > 0 {
			out = strconv.AppendUint(out, uint64(len(body)), 16)
			out = append(out, "\r\n"...)
			out = append(out, body...)
			out = append(out, "\r\n"...)
		}
		out = append(out, "0\r\n\r\n"...)
	}
	if err := s.cl.send(out); err != nil {
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
