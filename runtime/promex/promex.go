// Package promex is HAProxy 2.6's Prometheus exporter, the service of
// "http-request use-service prometheus-exporter"
// (addons/promex/service-prometheus.c): the "show info" and "show stat"
// values of the process, the frontends, backends and servers, and the
// stick tables' sizes, in the Prometheus text format (version 0.0.4).
//
// The text is written here rather than with client_golang's expfmt: the
// exporter prints averages with "%f" (0.001000), empty fields as NaN and
// one HELP/TYPE header per name, in field-major order, which expfmt's
// encoder does not reproduce byte for byte.
package promex

import (
	"strconv"
	"strings"

	"github.com/gohap/gohap/runtime/stats"
)

// Scopes a query selects (PROMEX_FL_SCOPE_*).
const (
	ScopeGlobal = 1 << iota
	ScopeFrontend
	ScopeBackend
	ScopeServer
	ScopeListener
	ScopeStickTable
	ScopeAll = ScopeGlobal | ScopeFrontend | ScopeBackend | ScopeServer | ScopeListener | ScopeStickTable
)

// Query is what a request's query string asks for.
type Query struct {
	Scopes int
	// NoMaint leaves out the servers in maintenance.
	NoMaint bool
}

// ParseQuery reads the query string of target as promex_parse_uri does:
// "scope=<name>" parameters add scopes (the first one drops the default
// of all scopes, an empty name clears them, "*" adds them all),
// "no-maint" hides servers in maintenance, other parameters are
// ignored. ok is false for an unknown scope, a scope without value, a
// value with a second '=' or a bad %-escape: HAProxy answers 400.
func ParseQuery(target string) (q Query, ok bool) {
	i := strings.IndexByte(target, '?')
	if i < 0 {
		q.Scopes = ScopeAll
		return q, true
	}
	s := target[i+1:]
	if j := strings.IndexByte(s, '#'); j >= 0 {
		s = s[:j]
	}
	defaults := ScopeAll
	for len(s) > 0 {
		if s[0] == 0 {
			break
		}
		var seg string
		if j := strings.IndexByte(s, '&'); j >= 0 {
			seg, s = s[:j], s[j+1:]
		} else {
			seg, s = s, ""
		}
		key, value, hasValue := strings.Cut(seg, "=")
		if hasValue && strings.IndexByte(value, '=') >= 0 {
			return q, false
		}
		key, good := urlDecode(key)
		if !good {
			return q, false
		}
		if hasValue {
			if value, good = urlDecode(value); !good {
				return q, false
			}
		}
		switch key {
		case "scope":
			defaults = 0
			if !hasValue {
				return q, false
			}
			switch {
			case value == "":
				q.Scopes = 0
			case value[0] == '*':
				q.Scopes |= ScopeAll
			case value == "global":
				q.Scopes |= ScopeGlobal
			case value == "server":
				q.Scopes |= ScopeServer
			case value == "backend":
				q.Scopes |= ScopeBackend
			case value == "frontend":
				q.Scopes |= ScopeFrontend
			case value == "listener":
				q.Scopes |= ScopeListener
			case value == "sticktable":
				q.Scopes |= ScopeStickTable
			default:
				return q, false
			}
		case "no-maint":
			q.NoMaint = true
		}
	}
	q.Scopes |= defaults
	return q, true
}

// urlDecode is url_decode in form mode: '+' is a space, "%XY" a byte;
// the result stops at a decoded NUL, as the C string comparisons do.
func urlDecode(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if h < 0 || l < 0 {
				return "", false
			}
			b = append(b, byte(h<<4|l))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if j := strings.IndexByte(string(b), 0); j >= 0 {
		b = b[:j]
	}
	return string(b), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Table is a stick table as haproxy_sticktable_ reports it.
type Table struct {
	Name, Type string
	Size, Used int
}

// Head is the answer's head before its chunked body, as HAProxy's
// promex_send_headers makes it (the h1 mux writes the names in lower
// case).
const Head = "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ntransfer-encoding: chunked\r\n"

// Render appends the metrics q selects to b. tables are in the order
// HAProxy lists them (the reverse of their declaration).
func Render(b []byte, snap *stats.Snapshot, tables []Table, q Query) []byte {
	w := &writer{b: b}
	if q.Scopes&ScopeGlobal != 0 {
		w.global(&snap.Info)
	}
	all := rowsOf(snap)
	if q.Scopes&ScopeFrontend != 0 {
		w.proxies(all, frontendMetrics, "haproxy_frontend_", q, kindFrontend)
	}
	// Listeners have metrics only with "option socket-stats".
	if q.Scopes&ScopeListener != 0 {
		w.proxies(all, listenerMetrics, "haproxy_listener_", q, kindListener)
	}
	if q.Scopes&ScopeBackend != 0 {
		w.proxies(all, backendMetrics, "haproxy_backend_", q, kindBackend)
	}
	if q.Scopes&ScopeServer != 0 {
		w.proxies(all, serverMetrics, "haproxy_server_", q, kindServer)
	}
	if q.Scopes&ScopeStickTable != 0 {
		w.tables(tables)
	}
	return w.b
}

// writer writes metric lines, each name's HELP and TYPE lines before its
// first line.
type writer struct {
	b       []byte
	pending bool
	m       *metric
	prefix  string
}

// begin starts metric m: its header is written with its first line.
func (w *writer) begin(prefix string, m *metric) {
	w.prefix, w.m, w.pending = prefix, m, true
}

// line writes one line of the current metric; labels are name, value
// pairs; val is the text of the value.
func (w *writer) line(val string, labels ...string) {
	b := w.b
	if w.pending {
		w.pending = false
		b = append(b, "# HELP "...)
		b = append(b, w.prefix...)
		b = append(b, w.m.name...)
		b = append(b, ' ')
		b = append(b, w.m.help...)
		b = append(b, "\n# TYPE "...)
		b = append(b, w.prefix...)
		b = append(b, w.m.name...)
		if w.m.counter {
			b = append(b, " counter\n"...)
		} else {
			b = append(b, " gauge\n"...)
		}
	}
	b = append(b, w.prefix...)
	b = append(b, w.m.name...)
	if len(labels) > 0 {
		b = append(b, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, labels[i]...)
			b = append(b, `="`...)
			b = append(b, labels[i+1]...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = append(b, val...)
	b = append(b, '\n')
	w.b = b
}

// value is promex_metric_to_str: integers in decimal, anything else
// (an empty field, a string) NaN.
func value(f stats.Field) string {
	switch f.Kind {
	case stats.KindS32, stats.KindS64:
		return strconv.FormatInt(f.N, 10)
	case stats.KindU32, stats.KindU64:
		return strconv.FormatUint(f.U, 10)
	}
	return "NaN"
}

// seconds is a value in milliseconds printed in seconds with "%f".
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 6, 64)
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// global writes the haproxy_process_ metrics from the "show info"
// fields; a field the process does not fill is NaN.
func (w *writer) global(in *stats.Info) {
	fields := infoFields(in)
	for i := range processMetrics {
		m := &processMetrics[i]
		w.begin("haproxy_process_", m)
		if m.field == "Build info" {
			w.line("1", "version", in.Version)
			continue
		}
		w.line(value(fields[m.field]))
	}
}

// infoFields reads the typed "show info" output back into its fields,
// by name: a field the output leaves out is empty.
func infoFields(in *stats.Info) map[string]stats.Field {
	out := map[string]stats.Field{}
	for _, l := range strings.Split(in.Text("typed"), "\n") {
		// <pos>.<name>.<process>:<tags>:<type>:<value>
		id, rest, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		_, name, _ := strings.Cut(id, ".")
		name = name[:max(strings.LastIndexByte(name, '.'), 0)]
		_, rest, _ = strings.Cut(rest, ":")
		typ, val, _ := strings.Cut(rest, ":")
		var f stats.Field
		switch typ {
		case "u32", "u64":
			u, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				continue
			}
			f = stats.Field{Kind: stats.KindU64, U: u}
		case "s32", "s64":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				continue
			}
			f = stats.Field{Kind: stats.KindS64, N: n}
		default:
			f = stats.Field{Kind: stats.KindStr, S: val}
		}
		out[name] = f
	}
	return out
}

func (w *writer) tables(tables []Table) {
	for i := range stickTableMetrics {
		m := &stickTableMetrics[i]
		w.begin("haproxy_sticktable_", m)
		for _, t := range tables {
			if t.Size == 0 {
				continue
			}
			n := t.Used
			if m.field == "size" {
				n = t.Size
			}
			w.line(strconv.Itoa(n), "name", t.Name, "type", t.Type)
		}
	}
}
