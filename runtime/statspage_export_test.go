package runtime

import (
	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
)

// CompileStats gives tests a graph with its stats, until Compile does it.
func CompileStats(cfg *parser.Config, g *Graph) {
	if g.stats == nil {
		g.stats = compileStats(cfg, g, func(parser.Pos, string, ...any) {})
	}
}

// StatsAnswer answers a stats request outside a session.
func (e *Engine) StatsAnswer(px, method, target, authorization string, body []byte) ([]byte, bool) {
	resp, ok := e.statsAnswer(px, method, target, authorization, true, &acl.Txn{},
		func() ([]byte, bool) { return body, true }, nil)
	return resp.Bytes(), ok
}
