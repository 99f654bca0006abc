package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/parser"
	"github.com/gohap/gohap/runtime/ssl"
)

// bindTLSDiags loads the TLS binds of the frontends as HAProxy does while
// parsing (ssl_sock_load_cert): their errors and warnings, with HAProxy's
// texts, at parse time, and the errors HAProxy finds later, when it
// prepares the contexts (check_config_validity), kept for Check. Binds of
// lines that already have an error are passed over.
func bindTLSDiags(cfg *parser.Config, diags parser.Diagnostics) (parse, late parser.Diagnostics) {
	bad := fatalLines(diags)
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
			site := ssl.Site{File: b.Pos.File, Line: b.Pos.Line, Section: p.Kind, Proxy: p.Name, Bind: b.Address}
			if bt != nil {
				for _, w := range bt.Warnings {
					if strings.HasPrefix(w, "Loading: ") {
						parse = append(parse, parser.Diagnostic{Severity: parser.Warning, Pos: b.Pos, Style: parser.StyleNone, Msg: w})
					}
				}
				for _, w := range bt.LineWarnings() {
					lines := strings.Split(site.Warning(w), "\n")
					parse = append(parse, parser.Diagnostic{Severity: parser.Warning, Pos: b.Pos, Style: parser.StyleNone, Msg: lines[0], Detail: lines[1:]})
				}
			}
			var e *ssl.Error
			if !errors.As(err, &e) {
				continue
			}
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

// serverSNIDiags are the alerts for server "sni" expressions that do not
// parse: HAProxy reads them while parsing the server line
// (_srv_parse_finalize), whether or not the line has "ssl".
func serverSNIDiags(cfg *parser.Config, diags parser.Diagnostics) parser.Diagnostics {
	bad := fatalLines(diags)
	var out parser.Diagnostics
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapDef != 0 {
			continue
		}
		for _, s := range p.Servers {
			if bad[parser.Pos{File: s.Pos.File, Line: s.Pos.Line}] {
				continue
			}
			w := s.Settings.TLSWords
			for i := 0; i+1 < len(w); i++ {
				if w[i] != "sni" {
					continue
				}
				if _, err := acl.CompileSample(w[i+1]); err != nil {
					out = append(out, serverAlert(p, s, fmt.Sprintf("error detected while parsing sni expression : %v", err)))
				}
			}
		}
	}
	return out
}

// serverVerifyDiags are the alerts for servers that would verify their
// certificate with no CA file to verify it with, which HAProxy gives when
// it prepares the servers' TLS contexts, once parsing is done.
func serverVerifyDiags(cfg *parser.Config) parser.Diagnostics {
	var out parser.Diagnostics
	g := sslGlobals(&cfg.Global)
	for _, p := range cfg.Proxies {
		if p.Cap&parser.CapDef != 0 || p.Cap&parser.CapBE == 0 {
			continue
		}
		for _, s := range p.Servers {
			if len(s.Settings.TLSWords) == 0 {
				continue
			}
			opts, err := ssl.ParseServerOptions(s.Settings.TLSWords, g)
			if err != nil || !opts.SSL && !opts.CheckSSL {
				continue
			}
			if err := ssl.NoCAError(opts, g); err != nil {
				out = append(out, serverAlert(p, s, err.Error()))
			}
		}
	}
	return out
}

// serverAlert is a fatal alert about server s of p in the form of
// HAProxy's server messages: "[FILE:LINE] : 'server p/s' : msg".
func serverAlert(p *parser.Proxy, s *parser.Server, msg string) parser.Diagnostic {
	e := &CompileError{Pos: s.Pos, Msg: fmt.Sprintf("'server %s/%s' : %s", p.Name, s.Name, msg), Bracket: true}
	return parser.Diagnostic{Severity: parser.Alert, Fatal: true, Pos: s.Pos, Style: parser.StyleNone, Msg: e.Error()}
}

// fatalLines are the lines with a fatal diagnostic.
func fatalLines(diags parser.Diagnostics) map[parser.Pos]bool {
	bad := map[parser.Pos]bool{}
	for _, d := range diags {
		if d.Fatal {
			bad[parser.Pos{File: d.Pos.File, Line: d.Pos.Line}] = true
		}
	}
	return bad
}

// lateTLS keeps, from ParseChecks to Check, the TLS errors HAProxy finds
// after parsing.
var lateTLS sync.Map // *parser.Config -> parser.Diagnostics
