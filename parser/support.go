package parser

import "sort"

// optionSupport says what the runtime does with each "option"
// (configuration.txt 4.2); an option absent here is Unsupported when set.
var optionSupport = map[string]Support{
	"forwardfor": Supported, "originalto": Supported, "allbackups": Supported, "httpchk": Supported,
	"tcp-check": Supported, "redis-check": Supported, "smtpchk": Supported, "mysql-check": Supported,
	"pgsql-check": Supported, "ldap-check": Supported, "ssl-hello-chk": Supported, "spop-check": Supported,
	"external-check":  Supported,
	"http-keep-alive": Supported, "http-server-close": Supported, "httpclose": Supported,
	"redispatch": Supported, "http-buffer-request": Supported, "tcpka": Supported, "clitcpka": Supported, "srvtcpka": Supported,
	"nolinger": Supported, "abortonclose": Supported, "log-health-checks": Supported, "prefer-last-server": Supported,
	"http-ignore-probes": Supported, "http-pretend-keepalive": Supported,
	"http-restrict-req-hdr-names": Supported, "accept-invalid-http-request": Supported,
	"accept-invalid-http-response": Supported, "http-use-proxy-header": Supported,
	// Persistence to a stopped server.
	"persist": Supported,
	// Cacheable responses that set a cookie are blocked.
	"checkcache": Supported,
	// The HTTP/2 preface on an HTTP/1 bind is a 400.
	"disable-h2-upgrade": Supported,
	// The log formats, and which log lines are sent at which level.
	"httplog": Supported, "tcplog": Supported, "httpslog": Supported,
	"dontlognull": Supported, "dontlog-normal": Supported, "log-separate-errors": Supported,
	// Socket and statistics tuning with no effect on what is proxied.
	"splice-auto": Supported, "splice-request": Supported, "splice-response": Supported,
	// HAProxy stops using MSG_MORE, which gohap never uses.
	"http-no-delay": Harmless,
	// Statistics count a stream's bytes as they move.
	"contstats": Supported,
	// Per-listener statistics lines and metrics.
	"socket-stats": Supported,
	// They only move TCP acknowledgements: TCP_QUICKACK on a listening
	// socket, which Linux neither keeps nor passes to accepted ones, and
	// on a server socket before its PROXY header, which merges the
	// handshake's last ACK with it. No byte and no timing an endpoint
	// reads changes.
	"tcp-smart-accept": Harmless, "tcp-smart-connect": Harmless,
	// The client's destination address as the server's, with no balance line.
	"transparent": Supported,
	// Logged once the response head is in (http) or the server connected (tcp).
	"logasap": Supported,
	// h1-case-adjust's names, to the frontend's clients or the backend's servers.
	"h1-case-adjust-bogus-client": Supported, "h1-case-adjust-bogus-server": Supported,
	// Writes to a side no longer refresh its read timeout.
	"independent-streams": Supported,
	// Soft stops leave idle connections open until their next answer.
	"idle-close-on-response": Supported,
}

// OptionSupport says what the runtime does with "option NAME".
func OptionSupport(name string) Support { return optionSupport[name] }

// Keyword names a keyword of a section with its support level.
type Keyword struct {
	// Section is "global", "proxy" (defaults, frontend, backend,
	// listen), "resolvers", "option" or "server" (server and
	// default-server options).
	Section, Name string
	Support       Support
}

// Keywords lists the keyword tables, sorted by section and name.
func Keywords() []Keyword {
	var out []Keyword
	for n, k := range globalKeywords {
		out = append(out, Keyword{"global", n, k.support})
	}
	for n, k := range proxyKeywords {
		out = append(out, Keyword{"proxy", n, k.support})
	}
	for _, n := range resolversKeywordNames() {
		out = append(out, Keyword{"resolvers", n, Supported})
	}
	for n := range knownOptions {
		out = append(out, Keyword{"option", n, optionSupport[n]})
	}
	for n := range serverKeywords {
		s := Unsupported
		if _, ok := runtimeServerOptions[n]; ok {
			s = Supported
		}
		out = append(out, Keyword{"server", n, s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return out[i].Section < out[j].Section
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Refusal is a line the runtime does not run, named as its messages
// name it.
type Refusal struct {
	Pos Pos
	// Name is the keyword, with the option's name for "option".
	Name string
}

// Refusals lists, in source order, the lines whose form is Unsupported.
func (c *Config) Refusals() []Refusal {
	var out []Refusal
	for _, d := range c.Directives {
		if d.Support != Unsupported {
			continue
		}
		name := d.Keyword
		if name == "option" && len(d.Args) > 0 {
			name += " " + d.Args[0]
		}
		out = append(out, Refusal{Pos: d.Pos, Name: name})
	}
	return out
}
