package parser

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ErrorConf is one of a proxy's error page lines, in the order HAProxy
// applies them: errorfile, errorloc*, errorfiles and http-error. Those of
// the defaults section come first.
type ErrorConf struct {
	Pos Pos
	// Status and Page are a single page (errorfile, errorloc, http-error).
	Status int
	Page   []byte
	// Section names an http-errors section (errorfiles, http-error
	// errorfiles); Statuses are the codes taken from it, all when nil.
	Section  string
	Statuses []int
	// Reply is an http-error answer with log-format parts (lf-string,
	// lf-file, or a header with a sample), rendered per answer.
	Reply *ErrorReply
}

// ErrorReply is an http-error answer built per request: its headers'
// values are log-format strings, and so is Body when BodyFormat is set.
type ErrorReply struct {
	ContentType string
	Hdrs        [][2]string
	Body        string
	BodyFormat  bool
}

// HTTPErrors is an http-errors section.
type HTTPErrors struct {
	Pos   Pos
	Name  string
	Pages map[int][]byte
}

// httpErrCodes are the status codes HAProxy can answer with an errorfile,
// in the order of its http_err_codes table.
var httpErrCodeList = []int{200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504}

// HTTPErrCodes lists the status codes HAProxy has a default page for, in
// its order.
func HTTPErrCodes() []int { return slices.Clone(httpErrCodeList) }

var httpErrCodes = func() map[int]bool {
	m := map[int]bool{}
	for _, c := range httpErrCodeList {
		m[c] = true
	}
	return m
}()

// loadErrorfile reads an errorfile as HAProxy's http_load_errorfile does;
// msg is the reason it cannot be used.
func loadErrorfile(status int, file string) (data []byte, msg string) {
	if !httpErrCodes[status] {
		return nil, fmt.Sprintf("status code '%d' not handled.", status)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Sprintf("error opening file '%s'.", file)
	}
	if len(data) == 0 {
		// An empty file is HAProxy's way to close without an answer.
		return []byte{}, ""
	}
	if !IsHTTPResponse(data) {
		return nil, fmt.Sprintf("'%s': unable to parse headers (error offset: 0)", file)
	}
	return data, ""
}

func (c *pctx) addErrorConf(e ErrorConf) {
	if p := c.cp.proxy; p != nil {
		e.Pos = c.pos
		p.ErrorConfs = append(p.ErrorConfs, e)
	}
}

func kwErrorfile(c *pctx) {
	if c.arg(2) == "" {
		c.alert("errorfile : expects <status_code> and <file> as arguments.")
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		return
	}
	status := Atol(c.arg(1))
	data, msg := loadErrorfile(status, c.arg(2))
	if msg != "" {
		c.alert("errorfile : %s", msg)
		return
	}
	c.addErrorConf(ErrorConf{Status: status, Page: data})
}

// kwErrorloc builds the redirect page of errorloc, errorloc302 and
// errorloc303 as HAProxy's http_parse_errorloc does.
func kwErrorloc(c *pctx) {
	kw := c.args[0]
	if c.arg(2) == "" {
		c.alert("%s : expects <status_code> and <url> as arguments.", kw)
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		return
	}
	status := Atol(c.arg(1))
	if !httpErrCodes[status] {
		c.alert("%s : status code '%d' not handled.", kw, status)
		return
	}
	head := "HTTP/1.1 302 Found\r\n"
	if kw == "errorloc303" {
		head = "HTTP/1.1 303 See Other\r\n"
	}
	page := head + "Cache-Control: no-cache\r\nContent-length: 0\r\nLocation: " + c.arg(2) + "\r\n\r\n"
	c.addErrorConf(ErrorConf{Status: status, Page: []byte(page)})
}

func kwErrorfiles(c *pctx) {
	if c.arg(1) == "" {
		c.alert("%s : expects <name> as argument.", c.args[0])
		return
	}
	e := ErrorConf{Section: c.arg(1)}
	for _, a := range c.args[2:] {
		st := Atol(a)
		if !httpErrCodes[st] {
			c.alert("%s : status code '%d' not handled.", c.args[0], st)
			return
		}
		e.Statuses = append(e.Statuses, st)
	}
	c.addErrorConf(e)
}

// kwHTTPError reads "http-error status <code> [content-type <type>]
// [errorfile <file> | errorfiles <name> | file <file> | string <str> |
// default-errorfiles] [hdr <name> <value>]*"; the log-format forms are
// refused by the runtime.
func kwHTTPError(c *pctx) {
	a := c.args[1:]
	status, ctype, hdrs := 0, "", [][2]string(nil)
	ctypeSet := false
	var body []byte
	section, bodyKind, dynamic := "", "", false
	fail := func(format string, v ...any) { c.alert("%s : %s", c.args[0], fmt.Sprintf(format, v...)) }
	// payload takes the one answer body argument (http_parse_http_reply).
	payload := func(kw string) bool {
		if bodyKind != "" {
			fail("unexpected '%s' argument, '%s' already defined", kw, bodyKind)
			return false
		}
		bodyKind = kw
		return true
	}
	i := 0
	for ; i < len(a); i++ {
		kw, val := a[i], ""
		if i+1 < len(a) {
			val = a[i+1]
		}
		switch kw {
		case "status":
			if val == "" {
				fail("'%s' expects <status_code> as argument", kw)
				return
			}
			if status = Atol(val); status < 200 || status > 599 {
				fail("Unexpected status code '%d'", status)
				return
			}
			i++
		case "content-type":
			if val == "" {
				fail("'%s' expects <ctype> as argument", kw)
				return
			}
			ctype, ctypeSet = val, true
			i++
		case "errorfile", "file", "lf-file":
			if !payload(kw) {
				return
			}
			if val == "" {
				fail("'%s' expects <file> as argument", kw)
				return
			}
			data, err := os.ReadFile(val)
			if err != nil {
				// errorfile goes through http_load_errorfile, whose
				// message ends with a period.
				msg := fmt.Sprintf("error opening file '%s'", val)
				if kw == "errorfile" {
					msg += "."
				}
				fail("%s", msg)
				return
			}
			body = data
			dynamic = dynamic || kw == "lf-file"
			i++
		case "string", "lf-string":
			if !payload(kw) {
				return
			}
			if val == "" {
				if kw == "string" {
					fail("'%s' expects <str> as argument", kw)
				} else {
					fail("'%s' expects <fmt> as argument", kw)
				}
				return
			}
			body = []byte(val)
			dynamic = dynamic || kw == "lf-string"
			i++
		case "errorfiles":
			if !payload(kw) {
				return
			}
			if val == "" {
				fail("'%s' expects <name> as argument", kw)
				return
			}
			section = val
			i++
		case "default-errorfiles":
			if !payload(kw) {
				return
			}
		case "hdr":
			if i+2 >= len(a) || a[i+1] == "" || a[i+2] == "" {
				fail("'%s' expects <name> and <value> as arguments", kw)
				return
			}
			switch strings.ToLower(a[i+1]) {
			case "content-length", "transfer-encoding", "content-type":
				c.warn("header '%s' always ignored by the http reply.", a[i+1])
			default:
				hdrs = append(hdrs, [2]string{a[i+1], a[i+2]})
				dynamic = dynamic || strings.Contains(a[i+2], "%")
			}
			i += 2
		}
		if i < len(a) && a[i] == kw && !isReplyWord(kw) {
			break
		}
	}
	switch bodyKind {
	case "":
		if ctypeSet {
			c.warn("content-type '%s' ignored by the http reply because neither errorfile nor payload defined.", ctype)
			ctype = ""
		}
	case "errorfile", "errorfiles", "default-errorfiles":
		if bodyKind != "errorfile" && !httpErrCodes[status] {
			fail("status code '%d' not handled by default with '%s' argument.", status, bodyKind)
			return
		}
		if ctypeSet {
			c.warn("content-type '%s' ignored by the http reply when used with an erorrfile.", ctype)
		}
		if len(hdrs) > 0 {
			c.warn("hdr parameters ignored by the http reply when used with an erorrfile.")
		}
		if bodyKind == "errorfile" && !IsHTTPResponse(body) {
			return
		}
	case "string", "file":
		if (status == 204 || status == 304) && len(body) > 0 {
			fail("No body expected for %d responses", status)
			return
		}
		if !ctypeSet && len(body) > 0 {
			fail("a content type must be defined when non-empty payload is configured")
			return
		}
		if ctypeSet && len(body) == 0 {
			c.warn("content-type '%s' ignored by the http reply when used with an empty payload.", ctype)
			ctype = ""
		}
	case "lf-string", "lf-file":
		if status == 204 || status == 304 {
			fail("No body expected for %d responses", status)
			return
		}
		if !ctypeSet {
			fail("a content type must be defined with a log-format payload")
			return
		}
	}
	if status == 0 {
		c.alert("http-error : expects at least a <status> as arguments.")
		c.cp.lineDiags[len(c.cp.lineDiags)-1].Detail = []string{""}
		return
	}
	if !httpErrCodes[status] {
		c.alert("http-error: status code '%d' not handled.", status)
		return
	}
	if i < len(a) {
		fail("unknown keyword '%s'.", a[i])
		return
	}
	e := ErrorConf{Status: status}
	switch {
	case dynamic:
		e.Reply = &ErrorReply{ContentType: ctype, Hdrs: hdrs, Body: string(body), BodyFormat: bodyKind == "lf-string" || bodyKind == "lf-file"}
	case bodyKind == "errorfiles":
		e.Section, e.Statuses = section, []int{status}
	case bodyKind == "errorfile":
		if !IsHTTPResponse(body) {
			return
		}
		e.Page = body
	case bodyKind == "default-errorfiles":
		// No page: the proxy falls back to HAProxy's own.
	default:
		e.Page = replyPage(status, ctype, hdrs, body)
	}
	c.setSupport(Supported)
	c.addErrorConf(e)
}

// replyPage is the response of an http reply with a static body, as
// HAProxy's http_reply_to_htx builds it.
func replyPage(status int, ctype string, hdrs [][2]string, body []byte) []byte {
	b := []byte("HTTP/1.1 " + strconv.Itoa(status) + " " + ReasonPhrase(status) + "\r\n")
	for _, h := range hdrs {
		if h[1] != "" {
			b = append(b, h[0]+": "+h[1]+"\r\n"...)
		}
	}
	b = append(b, "content-length: "+strconv.Itoa(len(body))+"\r\n"...)
	if len(body) > 0 && ctype != "" {
		b = append(b, "content-type: "+ctype+"\r\n"...)
	}
	return append(append(b, "\r\n"...), body...)
}

// ReasonPhrase is HAProxy's reason phrase for a status (http_get_reason).
func ReasonPhrase(status int) string {
	if r, ok := reasonPhrases[status]; ok {
		return r
	}
	switch status / 100 {
	case 1:
		return "Informational"
	case 2:
		return "Success"
	case 3:
		return "Redirection"
	case 4:
		return "Client Error"
	case 5:
		return "Server Error"
	}
	return "Other"
}

var reasonPhrases = map[int]string{
	100: "Continue",
	101: "Switching Protocols",
	102: "Processing",
	200: "OK",
	201: "Created",
	202: "Accepted",
	203: "Non-Authoritative Information",
	204: "No Content",
	205: "Reset Content",
	206: "Partial Content",
	207: "Multi-Status",
	210: "Content Different",
	226: "IM Used",
	300: "Multiple Choices",
	301: "Moved Permanently",
	302: "Moved Temporarily",
	303: "See Other",
	304: "Not Modified",
	305: "Use Proxy",
	307: "Temporary Redirect",
	308: "Permanent Redirect",
	310: "Too many Redirects",
	400: "Bad Request",
	401: "Unauthorized",
	402: "Payment Required",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	406: "Not Acceptable",
	407: "Proxy Authentication Required",
	408: "Request Time-out",
	409: "Conflict",
	410: "Gone",
	411: "Length Required",
	412: "Precondition Failed",
	413: "Request Entity Too Large",
	414: "Request-URI Too Long",
	415: "Unsupported Media Type",
	416: "Requested range unsatisfiable",
	417: "Expectation failed",
	418: "I'm a teapot",
	421: "Misdirected Request",
	422: "Unprocessable Content",
	423: "Locked",
	424: "Method failure",
	425: "Too Early",
	426: "Upgrade Required",
	428: "Precondition Required",
	429: "Too Many Requests",
	431: "Request Header Fields Too Large",
	449: "Retry With",
	450: "Blocked by Windows Parental Controls",
	451: "Unavailable For Legal Reasons",
	456: "Unrecoverable Error",
	499: "client has closed connection",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway or Proxy Error",
	503: "Service Unavailable",
	504: "Gateway Time-out",
	505: "HTTP Version not supported",
	506: "Variant also negotiate",
	507: "Insufficient storage",
	508: "Loop detected",
	509: "Bandwidth Limit Exceeded",
	510: "Not extended",
	511: "Network authentication required",
	520: "Web server is returning an unknown error",
}

// httpErrorsLine reads a line of an http-errors section.
func (cp *cfgParser) httpErrorsLine(c *pctx) {
	sec := cp.cfg.HTTPErrors[len(cp.cfg.HTTPErrors)-1]
	if c.args[0] != "errorfile" {
		c.alert("unknown keyword '%s' in '%s' section", c.args[0], cp.section)
		return
	}
	if c.arg(2) == "" {
		c.alert("%s: expects <status_code> and <file> as arguments.", c.args[0])
		return
	}
	status := Atol(c.arg(1))
	data, msg := loadErrorfile(status, c.arg(2))
	if msg != "" {
		c.alert("%s : %s", c.args[0], msg)
		return
	}
	if sec.Pages == nil {
		sec.Pages = map[int][]byte{}
	}
	sec.Pages[status] = data
}

// openHTTPErrors starts an http-errors section, with HAProxy's checks of
// its name.
func (cp *cfgParser) openHTTPErrors(args []string, pos Pos) bool {
	if len(args) < 2 || args[1] == "" {
		cp.add(alertf(pos, "missing name for http-errors section."))
		cp.stopFile()
		return false
	}
	if i := invalidChar(args[1]); i >= 0 {
		cp.add(alertf(pos, "character '%c' is not permitted in '%s' name '%s'.", args[1][i], args[0], args[1]))
	}
	for _, s := range cp.cfg.HTTPErrors {
		if s.Name == args[1] {
			d := alertf(pos, "http-errors section '%s' already exists (declared at %s:%d).", args[1], s.Pos.File, s.Pos.Line)
			d.Style = StyleParsingTight
			cp.add(d)
		}
	}
	cp.cfg.HTTPErrors = append(cp.cfg.HTTPErrors, &HTTPErrors{Pos: pos, Name: args[1]})
	return true
}

// ErrorPages applies p's error page lines in order, as HAProxy's
// proxy_check_errors does: it returns the pages by status and, in order,
// the alerts and warnings that check prints for unknown sections and
// statuses.
func (cfg *Config) ErrorPages(p *Proxy) (pages map[int][]byte, diags Diagnostics) {
	pages, _, diags = cfg.ErrorAnswers(p)
	return pages, diags
}

// ErrorAnswers is ErrorPages with the answers rendered per request
// (replies), which take a status from any page before them and lose it
// to any page after them.
func (cfg *Config) ErrorAnswers(p *Proxy) (pages map[int][]byte, replies map[int]*ErrorReply, diags Diagnostics) {
	for _, e := range p.ErrorConfs {
		if e.Reply != nil {
			if replies == nil {
				replies = map[int]*ErrorReply{}
			}
			replies[e.Status] = e.Reply
			delete(pages, e.Status)
			continue
		}
		if e.Section == "" {
			delete(replies, e.Status)
			if pages == nil {
				pages = map[int][]byte{}
			}
			if e.Page == nil {
				delete(pages, e.Status)
			} else {
				pages[e.Status] = e.Page
			}
			continue
		}
		var sec *HTTPErrors
		for _, s := range cfg.HTTPErrors {
			if s.Name == e.Section {
				sec = s
				break
			}
		}
		if sec == nil {
			diags = append(diags, Diagnostic{Severity: Alert, Fatal: true,
				Msg: fmt.Sprintf("proxy '%s': unknown http-errors section '%s' (at %s:%d).", p.Name, e.Section, e.Pos.File, e.Pos.Line)})
			continue
		}
		explicit := map[int]bool{}
		for _, st := range e.Statuses {
			explicit[st] = true
		}
		for _, st := range httpErrCodeList {
			if e.Statuses != nil && !explicit[st] {
				continue
			}
			if page, ok := sec.Pages[st]; ok {
				if pages == nil {
					pages = map[int][]byte{}
				}
				pages[st] = page
				delete(replies, st)
			} else if explicit[st] {
				diags = append(diags, Diagnostic{Severity: Warning,
					Msg: fmt.Sprintf("config: proxy '%s' : status '%d' not declared in http-errors section '%s' (at %s:%d).", p.Name, st, sec.Name, e.Pos.File, e.Pos.Line)})
			}
		}
	}
	return pages, replies, diags
}

// isReplyWord tells the words an http reply reads.
func isReplyWord(w string) bool {
	switch w {
	case "status", "content-type", "errorfile", "file", "lf-file", "string", "lf-string", "errorfiles", "default-errorfiles", "hdr":
		return true
	}
	return false
}
