package runtime

import (
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/ssl"
)

// bindTLSDiags loads the TLS binds of the frontends as HAProxy does while
// parsing (ssl_sock_load_cert): their errors and warnings, with HAProxy's
// texts, at parse time, and the errors HAProxy finds later, when it
// prepares the contexts (check_config_validity), kept for Check. Binds of
// lines that already have an error are passed over.
func bindTLSDiags(cfg *parser.Config, diags parser.Diagnostics) (parse, late parser.Diagnostics) {
	bad := map[parser.Pos]bool{}
	for _, d := range diags {
		if d.Fatal {
			bad[parser.Pos{File: d.Pos.File, Line: d.Pos.Line}] = true
		}
	}
	// The store as compiling makes it (certStore).
	store := (&Graph{}).certStore(cfg)
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapFE == 0 || p.Cap&parser.CapDef != 0 {
			continue
		}
		for i := range p.Binds {
			b := &p.Binds[i]
			if bad[parser.Pos{File: b.Pos.File, Line: b.Pos.Line}] || !slices.Contains(b.Options, "ssl") {
				continue
			}
			g := sslGlobals(&cfg.Global)
			g.Store = store
			opts, err := ssl.ParseBindOptions(b.Options, g)
			var bt *ssl.BindTLS
			if err == nil {
				bt, err = ssl.LoadBindConfig(opts, g)
			}
			if bt != nil {
				for _, w := range bt.Warnings {
					if strings.HasPrefix(w, "Loading: ") {
						parse = append(parse, parser.Diagnostic{Severity: parser.Warning, Pos: b.Pos, Style: parser.StyleNone, Msg: w})
					}
				}
			}
			var e *ssl.Error
			if !errors.As(err, &e) {
				continue
			}
			site := ssl.Site{File: b.Pos.File, Line: b.Pos.Line, Section: p.Kind, Proxy: p.Name, Bind: b.Address}
			alerts, bare := e.Alert(site)
			out := &parse
			if e.Late {
				out = &late
			}
			for _, a := range alerts {
				lines := strings.Split(a, "\n")
				*out = append(*out, parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: b.Pos, Style: parser.StyleNone, Msg: lines[0], Detail: lines[1:]})
			}
			if len(bare) > 0 {
				d := &(*out)[len(*out)-1]
				d.Detail = append(d.Detail, bare...)
			}
		}
	}
	return parse, late
}

// lateTLS keeps, from ParseChecks to Check, the TLS errors HAProxy finds
// after parsing.
var lateTLS sync.Map // *parser.Config -> parser.Diagnostics
