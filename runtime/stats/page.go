package stats

import (
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// DefaultRealm is STATS_DEFAULT_REALM.
const DefaultRealm = "HAProxy Statistics"

// Matches is http_stats_check_uri: a GET, HEAD or POST whose target
// starts with the page's URI, compared with the path (query included)
// when the URI starts with '/'.
func (pg *Page) Matches(method, target string) bool {
	if method != "GET" && method != "HEAD" && method != "POST" {
		return false
	}
	if strings.HasPrefix(pg.URI, "/") {
		target = requestPath(target)
	}
	return strings.HasPrefix(target, pg.URI)
}

// requestPath is http_parse_path: an absolute URI loses its scheme and
// authority; "*" and authority forms have no path.
func requestPath(t string) string {
	if strings.HasPrefix(t, "/") {
		return t
	}
	if i := strings.Index(t, "://"); i > 0 {
		rest := t[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
	}
	return ""
}

// Authorized checks a request's Authorization header against the page's
// accounts, as the "http_auth(.internal-stats-userlist)" rule HAProxy
// makes of "stats auth" does. A page without accounts lets anyone in.
func (pg *Page) Authorized(authorization string) bool {
	if len(pg.Auth) == 0 {
		return true
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok {
		return false
	}
	for _, a := range pg.Auth {
		u, p, _ := strings.Cut(a, ":")
		if u == user && subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1 {
			return true
		}
	}
	return false
}

// Unauthorized is the 401 answer, or with proxy the 407 one: HAProxy's
// page, or errorPage (that status's errorfile, head and body as sent)
// with its WWW-Authenticate (Proxy-Authenticate) replaced.
func (pg *Page) Unauthorized(errorPage []byte, proxy bool) []byte {
	realm := pg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	name, code := "www-authenticate", "401"
	if proxy {
		name, code = "proxy-authenticate", "407"
	}
	hdr := name + ": Basic realm=\"" + realm + "\"\r\n"
	if len(errorPage) == 0 {
		body := "<html><body><h1>" + code + " Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
		return []byte("HTTP/1.1 " + code + " Unauthorized\r\ncontent-length: " + strconv.Itoa(len(body)) +
			"\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n" + hdr + "\r\n" + body)
	}
	head, body, ok := strings.Cut(string(errorPage), "\r\n\r\n")
	if !ok {
		return errorPage
	}
	var out []string
	for _, l := range strings.Split(head, "\r\n") {
		if n, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(n), name) {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\r\n") + "\r\n" + hdr + "\r\n" + body)
}

// View reads the options of a request's target after the page's URI, as
// http_handle_stats does.
func (pg *Page) View(target string) View {
	v := View{Format: "html"}
	i := strings.Index(target, pg.URI)
	look := ""
	if i >= 0 {
		look = target[i+len(pg.URI):]
	}
	has := func(s string) bool { return strings.Contains(look, s) }
	v.HideDown = has(";up")
	v.HideMaint = has(";no-maint")
	v.NoRefresh = pg.Refresh > 0 && has(";norefresh")
	if has(";csv") {
		v.Format = "csv"
	}
	if has(";typed") {
		v.Format = "typed"
	}
	if has(";json") {
		v.Format = "json"
	}
	if has(";json-schema") {
		v.Format = "json-schema"
	}
	if j := strings.Index(look, ";st="); j >= 0 && len(look)-j >= 8 {
		code := look[j+4 : j+8]
		v.Status = "UNKN"
		for _, c := range []string{"DENY", "DONE", "ERRP", "EXCD", "NONE", "PART", "UNKN", "IVAL"} {
			if c == code {
				v.Status = c
			}
		}
	}
	if j := strings.Index(look, "scope="); j >= 0 && len(look)-j >= 8 {
		s := look[j+6:]
		if k := strings.IndexAny(s, ";& "); k >= 0 {
			s = s[:k]
		}
		if len(s) > maxSearch {
			s = s[:maxSearch]
		}
		if !strings.ContainsAny(s, "<>\"'&") && !hasCtl(s) {
			v.Search = s
		}
	}
	return v
}

func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] == 127 {
			return true
		}
	}
	return false
}

// Response is a stats answer: its head and body, and whether the
// connection must close after it (an HTTP/1.0 answer without length).
type Response struct {
	Head  string
	Body  []byte
	Close bool
}

// Bytes is the answer as sent.
func (r *Response) Bytes() []byte { return append([]byte(r.Head), r.Body...) }

// Render answers a GET or HEAD: http11 selects a chunked body, as
// HAProxy's applet sends on an HTTP/1.1 connection.
func (pg *Page) Render(s *Snapshot, v *View, o Options, head, http11 bool) Response {
	var body, ctype string
	o.Scope, o.Self, o.Search = pg.Scope, v.Self, v.Search
	o.HideDown, o.HideMaint = v.HideDown, v.HideMaint
	o.Legends = pg.ShowLegends
	switch v.Format {
	case "csv":
		body, ctype = CSV(s.Rows(o)), "text/plain"
	case "typed":
		body, ctype = Typed(s.Rows(o)), "text/plain"
	case "json":
		body, ctype = JSON(s.Rows(o)), "application/json"
	case "json-schema":
		body, ctype = JSONSchema(), "application/json"
	default:
		body, ctype = s.HTML(pg, v, o), "text/html"
	}
	h := "HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: " + ctype + "\r\n"
	if pg.Refresh > 0 && !v.NoRefresh {
		h += "refresh: " + strconv.Itoa(int(pg.Refresh.Seconds())) + "\r\n"
	}
	r := Response{}
	switch {
	case head:
		// HAProxy sends the head alone, the length unknown.
		r.Head, r.Close = h+"\r\n", !http11
	case http11:
		r.Head = h + "transfer-encoding: chunked\r\n\r\n"
		r.Body = []byte(strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n")
	default:
		r.Head, r.Body, r.Close = h+"\r\n", []byte(body), true
	}
	return r
}

// Actor applies the page's admin actions to the servers.
type Actor interface {
	// Act applies action to server srv of backend be (as the form names
	// them) and reports whether the server was found and changed.
	Act(be, srv, action string) (found, altered bool)
	// BackendName resolves the form's "b" value ("#id" or a name), ""
	// when unknown.
	BackendName(b string) string
}

var adminActions = map[string]bool{"ready": true, "drain": true, "maint": true, "shutdown": true, "dhlth": true,
	"ehlth": true, "hrunn": true, "hnolb": true, "hdown": true, "dagent": true, "eagent": true, "arunn": true,
	"adown": true, "disable": true, "enable": true, "stop": true, "start": true}

// Post is stats_process_http_post: it applies the form's action to its
// servers and returns the status code the redirect carries.
func Post(body string, act Actor) string {
	params := strings.Split(body, "&")
	var be, action string
	var servers []string
	// The last backend and action win, as HAProxy reads backwards.
	for i := len(params) - 1; i >= 0; i-- {
		k, v, _ := strings.Cut(params[i], "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			break
		}
		switch {
		case k == "b" && be == "":
			if be = act.BackendName(v); be == "" {
				return "ERRP"
			}
		case k == "action" && action == "":
			if !adminActions[v] {
				return "ERRP"
			}
			action = v
		case k == "s":
			servers = append(servers, v)
		}
	}
	total, altered := 0, 0
	if be != "" && action != "" {
		for i := len(servers) - 1; i >= 0; i-- {
			found, ok := act.Act(be, servers[i], action)
			if found && !ok {
				continue
			}
			total++
			if ok {
				altered++
			}
		}
	}
	switch {
	case total == 0:
		return "NONE"
	case altered == 0:
		return "ERRP"
	case altered == total:
		return "DONE"
	}
	return "PART"
}

// Redirect is stats_send_http_redirect: the 303 after a POST.
func (pg *Page) Redirect(code string, v *View) Response {
	loc := pg.URI + ";st=" + code + v.keep(true, true)
	return Response{Head: "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nlocation: " + loc + "\r\n\r\n"}
}
