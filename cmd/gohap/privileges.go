package main

import (
	"os"

	"github.com/gohap/gohap/parser"
)

// needsNetAdmin tells whether the configuration uses an option that
// needs network administration privileges, where HAProxy's parser sets
// LSTCHK_NETADM: "source" with usesrc or interface (proxy, server and
// default-server lines), and the set-mark action of tcp-request,
// tcp-response, http-request and http-response rules.
func needsNetAdmin(cfg *parser.Config) bool {
	priv := func(b *parser.SourceBind) bool {
		return b != nil && (b.Usesrc != parser.UsesrcNone || b.Iface != "")
	}
	for _, ps := range [][]*parser.Proxy{cfg.Defaults, cfg.Proxies} {
		for _, p := range ps {
			if priv(p.Source) || priv(p.ServerDefaults.Source) {
				return true
			}
			for _, s := range p.Servers {
				if priv(s.Settings.Source) {
					return true
				}
			}
			for _, r := range p.TCPRequests {
				if r.Action == "set-mark" {
					return true
				}
			}
			for _, rs := range [][]*parser.HTTPRule{p.HTTPRequestRules, p.HTTPResponseRules} {
				for _, r := range rs {
					if r.Action == "set-mark" {
						return true
					}
				}
			}
		}
	}
	return false
}

// checkPrivileges is HAProxy's start-up check of these options, once the
// listeners are bound, before the process changes its root and identity:
// it refuses a configuration that also sets a user to run as, and warns
// a process not started as root that they might not work. Messages go
// nowhere in quiet mode, as HAProxy has then closed its standard error.
// It returns false when the process must exit.
func checkPrivileges(cfg *parser.Config, uid int, o *procOpts, m *msgs) bool {
	if !needsNetAdmin(cfg) {
		return true
	}
	say := !((o.quiet || cfg.Global.Quiet) && !o.verbose)
	if uid != 0 {
		if say {
			m.alert("[%s.main()] Some configuration options require full privileges, so global.uid cannot be changed.", os.Args[0])
		}
		return false
	}
	if os.Getuid() != 0 && say {
		m.warning("[%s.main()] Some options which require full privileges might not work well.", os.Args[0])
	}
	return true
}
