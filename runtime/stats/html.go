package stats

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Page is the configuration of a stats page (HAProxy's uri_auth).
type Page struct {
	URI, Realm string
	// Auth lists "user:password" accounts; none lets anyone in.
	Auth                                  []string
	Refresh                               time.Duration
	Scope                                 []string
	HideVersion, ShowLegends, ShowModules bool
	ShowNode, ShowDesc                    bool
	// Node and Desc override the global node name and description.
	Node, Desc string
}

// View is what one request asks of the page.
type View struct {
	// Format is "html", "csv", "json", "typed" or "json-schema".
	Format              string
	HideDown, HideMaint bool
	NoRefresh           bool
	// Status is the ";st=" code of a previous POST ("DONE", ...), ""
	// for none.
	Status string
	// Search is the "scope=" text.
	Search string
	// Admin is set when a "stats admin" rule matched.
	Admin bool
	// Self is the proxy serving the page ("stats scope .").
	Self string
}

// u2h is ulltoh: digit groups marked for letter spacing.
func u2h(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		// The first digit of each group of three but the last is wrapped.
		if k := len(s) - i; k > 3 && k%3 == 1 {
			b.WriteString(`<span class="rls">` + s[i:i+1] + `</span>`)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// lim2a is LIM2A: the number, or alt when 0.
func lim2a(n uint64, alt string) string {
	if n == 0 {
		return alt
	}
	return strconv.FormatUint(n, 10)
}

// humanTime is human_time with a divisor of 1: the two largest units.
func humanTime(t int) string {
	if t < 0 {
		return "?"
	}
	var b strings.Builder
	cnt := 2
	if t >= 86400 {
		fmt.Fprintf(&b, "%dd", t/86400)
		cnt--
	}
	if cnt > 0 && t%86400/3600 != 0 {
		fmt.Fprintf(&b, "%dh", t%86400/3600)
		cnt--
	}
	if cnt > 0 && t%3600/60 != 0 {
		fmt.Fprintf(&b, "%dm", t%3600/60)
		cnt--
	}
	if cnt > 0 && t%60 != 0 || t == 0 {
		fmt.Fprintf(&b, "%ds", t%60)
	}
	return b.String()
}

// htmlEncode is chunk_htmlencode.
func htmlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c == '<' || c == '>' || c == '"' || c == '&' || c >= 127 {
			fmt.Fprintf(&b, "&#%d;", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func pct(a, b uint64) int {
	if b == 0 {
		return 0
	}
	return int(100 * a / b)
}

// HTML renders the page as stats_dump_stat_to_buffer does in HTML.
func (s *Snapshot) HTML(pg *Page, v *View, o Options) string {
	var b strings.Builder
	node := ""
	if pg.ShowNode {
		node = " on " + firstNonEmpty(pg.Node, s.Info.Node)
	}
	b.WriteString("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n" +
		"<html><head><title>Statistics Report for HAProxy" + node + "</title>\n" +
		"<link rel=\"icon\" href=\"data:,\">\n" +
		"<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n")
	b.WriteString(htmlStyle)
	s.htmlInfo(&b, pg, v)
	for i := range s.Proxies {
		p := &s.Proxies[i]
		if !o.proxyShown(p) {
			continue
		}
		htmlProxyHead(&b, p, v, o.Legends)
		for _, r := range o.proxyRows(p) {
			htmlRow(&b, r, v.Admin, o.Legends)
		}
		htmlProxyEnd(&b, p, v)
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// suffix is the ";up", ";norefresh" and scope part the page's links keep.
func (v *View) scopeText() string {
	if v.Search == "" {
		return ""
	}
	return ";scope=" + v.Search
}

func (v *View) keep(up, norefresh bool) string {
	s := ""
	if up && v.HideDown {
		s += ";up"
	}
	if norefresh && v.NoRefresh {
		s += ";norefresh"
	}
	return s + v.scopeText()
}

var statusMessages = map[string][2]string{
	"DONE": {"active_up", "Action processed successfully."},
	"NONE": {"active_going_down", "Nothing has changed."},
	"PART": {"active_going_down", "Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend)."},
	"ERRP": {"active_down", "Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>"},
	"EXCD": {"active_down", "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>"},
	"DENY": {"active_down", "<b>Action denied.</b>"},
	"IVAL": {"active_down", "<b>Invalid requests (unsupported method or chunked encoded request).</b>"},
}

// htmlInfo is stats_dump_html_info.
func (s *Snapshot) htmlInfo(b *strings.Builder, pg *Page, v *View) {
	in := &s.Info
	up := int(in.Uptime.Seconds())
	ver := ""
	if !pg.HideVersion {
		ver = " version " + in.Version + ", released " + in.ReleaseDate
	}
	h2 := ""
	if pg.ShowNode {
		h2 += " on " + firstNonEmpty(pg.Node, in.Node)
	}
	if pg.ShowDesc {
		h2 += ": " + firstNonEmpty(pg.Desc, in.Description)
	}
	bps := float64(in.BytesOutRate) * 8 * 1538 / 1448
	unit, div := 'k', 1000.0
	if bps >= 1e9 {
		unit, div = 'G', 1e9
	} else if bps >= 1e6 {
		unit, div = 'M', 1e6
	}
	fmt.Fprintf(b, "<body><h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy%s</a></h1>\n"+
		"<h2>Statistics Report for pid %d%s</h2>\n"+
		"<hr width=\"100%%\" class=\"hr\">\n"+
		"<h3>&gt; General process information</h3>\n"+
		"<table border=0><tr><td align=\"left\" nowrap width=\"1%%\">\n"+
		"<p><b>pid = </b> %d (process #%d, nbproc = %d, nbthread = %d)<br>\n"+
		"<b>uptime = </b> %dd %dh%02dm%02ds<br>\n"+
		"<b>system limits:</b> memmax = unlimited; ulimit-n = %d<br>\n"+
		"<b>maxsock = </b> %d; <b>maxconn = </b> %d; <b>maxpipes = </b> %d<br>\n"+
		"current conns = %d; current pipes = %d/%d; conn rate = %d/sec; bit rate = %.3f %cbps<br>\n"+
		"Running tasks: %d/%d; idle = %d %%<br>\n"+
		"</td><td align=\"center\" nowrap>\n",
		ver, in.PID, h2, in.PID, 1, 1, in.Nbthread, up/86400, up%86400/3600, up%3600/60, up%60,
		in.UlimitN, in.Maxsock, in.Maxconn, in.Maxpipes, in.CurrConns, in.PipesUsed, in.PipesUsed+in.PipesFree, in.ConnRate, bps/div, unit,
		in.RunQueue, in.Tasks, in.IdlePct)
	{
		b.WriteString("<table class=\"lgd\"><tr>\n" +
			"<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>" +
			"<td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td>" +
			"</tr><tr>\n" +
			"<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>" +
			"<td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down </td>" +
			"</tr><tr>\n" +
			"<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>" +
			"<td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up </td>" +
			"</tr><tr>\n" +
			"<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>" +
			"<td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td>" +
			"</tr><tr>\n" +
			"<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN for maintenance (MAINT) &nbsp;</td>" +
			"</tr><tr>\n" +
			"<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or backup SOFT STOPPED for maintenance &nbsp;</td>" +
			"</tr></table>\n" +
			"Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled." +
			"</td>" +
			"<td align=\"left\" valign=\"top\" nowrap width=\"1%\">" +
			"<b>Display option:</b><ul style=\"margin-top: 0.25em;\">")
	}
	fmt.Fprintf(b, "<li><form method=\"GET\">Scope : <input value=\"%s\" name=\"scope\" size=\"8\" maxlength=\"%d\" tabindex=\"1\"/></form>\n",
		v.Search, maxSearch)
	uri := pg.URI
	sc := v.scopeText()
	if v.HideDown {
		fmt.Fprintf(b, "<li><a href=\"%s%s\">Show all servers</a><br>\n", uri, v.keep(false, true))
	} else {
		norefresh := ""
		if v.NoRefresh {
			norefresh = ";norefresh"
		}
		fmt.Fprintf(b, "<li><a href=\"%s;up%s%s\">Hide 'DOWN' servers</a><br>\n", uri, norefresh, sc)
	}
	if pg.Refresh > 0 {
		if v.NoRefresh {
			fmt.Fprintf(b, "<li><a href=\"%s%s\">Enable refresh</a><br>\n", uri, v.keep(true, false))
		} else {
			up := ""
			if v.HideDown {
				up = ";up"
			}
			fmt.Fprintf(b, "<li><a href=\"%s%s;norefresh%s\">Disable refresh</a><br>\n", uri, up, sc)
		}
	}
	fmt.Fprintf(b, "<li><a href=\"%s%s\">Refresh now</a><br>\n", uri, v.keep(true, true))
	nr := ""
	if pg.Refresh > 0 {
		nr = ";norefresh"
	}
	fmt.Fprintf(b, "<li><a href=\"%s;csv%s%s\">CSV export</a><br>\n", uri, nr, sc)
	fmt.Fprintf(b, "<li><a href=\"%s;json%s%s\">JSON export</a> (<a href=\"%s;json-schema\">schema</a>)<br>\n", uri, nr, sc, uri)
	b.WriteString("</ul></td><td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>External resources:</b><ul style=\"margin-top: 0.25em;\">\n" +
		"<li><a href=\"http://www.haproxy.org/\">Primary site</a><br>\n" +
		"<li><a href=\"http://www.haproxy.org/#down\">Updates (v2.6)</a><br>\n" +
		"<li><a href=\"http://www.haproxy.org/#docs\">Online manual</a><br>\n" +
		"</ul></td></tr></table>\n")
	if v.Status != "" {
		m, ok := statusMessages[v.Status]
		if !ok {
			m = [2]string{"active_no_check", "Unexpected result."}
		}
		fmt.Fprintf(b, "<p><div class=%s><a class=lfsb href=\"%s%s\" title=\"Remove this message\">[X]</a> %s</div>\n<p>\n",
			m[0], uri, v.keep(true, true), m[1])
	}
}

// maxSearch is STAT_SCOPE_TXT_MAXLEN.
const maxSearch = 20

// htmlProxyHead is stats_dump_html_px_hdr.
func htmlProxyHead(b *strings.Builder, p *Proxy, v *View, legends bool) {
	form := p.Backend != nil && len(p.Servers) > 0 && v.Admin
	if form {
		b.WriteString("<form method=\"post\">")
	}
	fmt.Fprintf(b, "<table class=\"tbl\" width=\"100%%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%%\"><a name=\"%s\"></a>", p.Name)
	if legends {
		b.WriteString("<u>")
	}
	fmt.Fprintf(b, "<a class=px href=\"#%s\">%s</a>", p.Name, p.Name)
	if legends {
		fmt.Fprintf(b, "<div class=tips>cap: %s, mode: %s, id: %d</div></u>", p.Cap(), p.Mode, p.ID)
	}
	cls := "empty"
	if p.Desc != "" {
		cls = "desc"
	}
	fmt.Fprintf(b, "</th><th class=\"%s\" width=\"90%%\">%s</th></tr>\n</table>\n<table class=\"tbl\" width=\"100%%\">\n<tr class=\"titre\">", cls, p.Desc)
	if v.Admin {
		if form {
			fmt.Fprintf(b, "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('%s-checkbox')) document.getElementsByClassName('%s-checkbox').item(c).checked = this.checked\"></th>", p.Name, p.Name)
		} else {
			b.WriteString("<th rowspan=2></th>")
		}
	}
	b.WriteString("<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th>" +
		"<th colspan=2>Bytes</th><th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th>" +
		"<th colspan=9>Server</th></tr>\n<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th>" +
		"<th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>Last</th>" +
		"<th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th><th>Redis</th>" +
		"<th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>")
}

// htmlProxyEnd is stats_dump_html_px_end.
func htmlProxyEnd(b *strings.Builder, p *Proxy, v *View) {
	b.WriteString("</table>")
	if p.Backend != nil && len(p.Servers) > 0 && v.Admin {
		fmt.Fprintf(b, "Choose the action to perform on the checked servers : <select name=action>"+
			"<option value=\"\"></option><option value=\"ready\">Set state to READY</option>"+
			"<option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option>"+
			"<option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option>"+
			"<option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option>"+
			"<option value=\"hdown\">Health: force DOWN</option><option value=\"dagent\">Agent: disable checks</option>"+
			"<option value=\"eagent\">Agent: enable checks</option><option value=\"arunn\">Agent: force UP</option>"+
			"<option value=\"adown\">Agent: force DOWN</option><option value=\"shutdown\">Kill Sessions</option>"+
			"</select><input type=\"hidden\" name=\"b\" value=\"#%d\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>", p.ID)
	}
	b.WriteString("<p>\n")
}

// serverStyle is the row class of a server line.
func serverStyle(r Row) string {
	st := r[fStatus].S
	if strings.HasPrefix(st, "MAINT") {
		return "maintain"
	}
	var style string
	switch {
	case st == "DOWN" || st == "DOWN (agent)":
		style = "down"
	case strings.HasPrefix(st, "DOWN "):
		style = "going_up"
	case st == "DRAIN":
		style = "draining"
	case strings.HasPrefix(st, "NOLB "):
		style = "going_down"
	case st == "NOLB":
		style = "nolb"
	case st == "no check":
		style = "no_check"
	case !r[fChkfail].present() || r[fCheckHealth].U == r[fCheckRise].U+r[fCheckFall].U-1:
		style = "up"
		if r[fWeight].U == 0 {
			style = "draining"
		}
	default:
		style = "going_down"
	}
	if r[fBck].U != 0 {
		return "backup_" + style
	}
	return "active_" + style
}

func nameTips(b *strings.Builder, r Row, legends bool) {
	if !legends {
		return
	}
	b.WriteString("<div class=tips>")
	addr := r[fAddr].S
	switch {
	case addr != "" && addr[0] >= '0' && addr[0] <= '9':
		b.WriteString("IPv4: " + addr + ", ")
	case addr != "" && addr[0] == '[':
		b.WriteString("IPv6: " + addr + ", ")
	case addr != "":
		b.WriteString(addr + ", ")
	}
	fmt.Fprintf(b, "id: %d", r[fSid].U)
	if r[fCookie].present() {
		b.WriteString(", cookie: '" + htmlEncode(r[fCookie].S) + "'")
	}
	b.WriteString("</div>")
}

func bytesOut(b *strings.Builder, r Row) {
	u, eu := "", ""
	if r[fCompIn].U != 0 || r[fCompByp].U != 0 {
		u, eu = "<u>", "</u>"
	}
	saved := r[fCompIn].U - r[fCompOut].U
	fmt.Fprintf(b, "<td>%s%s<div class=tips><table class=det><tr><th>Response bytes in:</th><td>%s</td></tr>"+
		"<tr><th>Compression in:</th><td>%s</td></tr><tr><th>Compression out:</th><td>%s</td><td>(%d%%)</td></tr>"+
		"<tr><th>Compression bypass:</th><td>%s</td></tr><tr><th>Total bytes saved:</th><td>%s</td><td>(%d%%)</td></tr>"+
		"</table></div>%s</td>", u, u2h(r[fBout].U), u2h(r[fBout].U), u2h(r[fCompIn].U), u2h(r[fCompOut].U),
		pct(r[fCompOut].U, r[fCompIn].U), u2h(r[fCompByp].U), u2h(saved), pct(saved, r[fBout].U), eu)
}

func timesTips(b *strings.Builder, r Row, http bool) {
	b.WriteString("<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>")
	fmt.Fprintf(b, "<tr><th>- Queue time:</th><td>%s / %s</td><td>ms</td></tr>", u2h(r[fQtimeMax].U), u2h(r[fQtime].U))
	fmt.Fprintf(b, "<tr><th>- Connect time:</th><td>%s / %s</td><td>ms</td></tr>", u2h(r[fCtimeMax].U), u2h(r[fCtime].U))
	if http {
		fmt.Fprintf(b, "<tr><th>- Responses time:</th><td>%s / %s</td><td>ms</td></tr>", u2h(r[fRtimeMax].U), u2h(r[fRtime].U))
	}
	fmt.Fprintf(b, "<tr><th>- Total time:</th><td>%s / %s</td><td>ms</td></tr>", u2h(r[fTtimeMax].U), u2h(r[fTtime].U))
}

// htmlRow is stats_dump_fields_html.
func htmlRow(b *strings.Builder, r Row, admin, legends bool) {
	http := r[fMode].S == "http"
	px, sv := r[fPxname].S, r[fSvname].S
	switch r[fType].U {
	case TypeFrontend:
		b.WriteString("<tr class=\"frontend\">")
		if admin {
			b.WriteString("<td></td>")
		}
		fmt.Fprintf(b, "<td class=ac><a name=\"%s/Frontend\"></a><a class=lfsb href=\"#%s/Frontend\">Frontend</a></td><td colspan=3></td>", px, px)
		fmt.Fprintf(b, "<td><u>%s<div class=tips><table class=det><tr><th>Current connection rate:</th><td>%s/s</td></tr>"+
			"<tr><th>Current session rate:</th><td>%s/s</td></tr>", u2h(r[fRate].U), u2h(r[fConnRate].U), u2h(r[fRate].U))
		if http {
			fmt.Fprintf(b, "<tr><th>Current request rate:</th><td>%s/s</td></tr>", u2h(r[fReqRate].U))
		}
		fmt.Fprintf(b, "</table></div></u></td><td><u>%s<div class=tips><table class=det><tr><th>Max connection rate:</th><td>%s/s</td></tr>"+
			"<tr><th>Max session rate:</th><td>%s/s</td></tr>", u2h(r[fRateMax].U), u2h(r[fConnRateMax].U), u2h(r[fRateMax].U))
		if http {
			fmt.Fprintf(b, "<tr><th>Max request rate:</th><td>%s/s</td></tr>", u2h(r[fReqRateMax].U))
		}
		fmt.Fprintf(b, "</table></div></u></td><td>%s</td>", lim2a(r[fRateLim].U, "-"))
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td>%s</td><td><u>%s<div class=tips><table class=det>"+
			"<tr><th>Cum. connections:</th><td>%s</td></tr><tr><th>Cum. sessions:</th><td>%s</td></tr>",
			u2h(r[fScur].U), u2h(r[fSmax].U), u2h(r[fSlim].U), u2h(r[fStot].U), u2h(r[fConnTot].U), u2h(r[fStot].U))
		if http {
			fmt.Fprintf(b, "<tr><th>Cum. HTTP requests:</th><td>%s</td></tr><tr><th>- HTTP 1xx responses:</th><td>%s</td></tr>"+
				"<tr><th>- HTTP 2xx responses:</th><td>%s</td></tr><tr><th>&nbsp;&nbsp;Compressed 2xx:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>- HTTP 3xx responses:</th><td>%s</td></tr><tr><th>- HTTP 4xx responses:</th><td>%s</td></tr>"+
				"<tr><th>- HTTP 5xx responses:</th><td>%s</td></tr><tr><th>- other responses:</th><td>%s</td></tr>"+
				"<tr><th>Intercepted requests:</th><td>%s</td></tr><tr><th>Cache lookups:</th><td>%s</td></tr>"+
				"<tr><th>Cache hits:</th><td>%s</td><td>(%d%%)</td></tr><tr><th>Failed hdr rewrites:</th><td>%s</td></tr>"+
				"<tr><th>Internal errors:</th><td>%s</td></tr>",
				u2h(r[fReqTot].U), u2h(r[fHrsp1xx].U), u2h(r[fHrsp2xx].U), u2h(r[fCompRsp].U), pct(r[fCompRsp].U, r[fHrsp2xx].U),
				u2h(r[fHrsp3xx].U), u2h(r[fHrsp4xx].U), u2h(r[fHrsp5xx].U), u2h(r[fHrspOther].U), u2h(r[fIntercepted].U),
				u2h(r[fCacheLookups].U), u2h(r[fCacheHits].U), pct(r[fCacheHits].U, r[fCacheLookups].U), u2h(r[fWrew].U), u2h(r[fEint].U))
		}
		fmt.Fprintf(b, "</table></div></u></td><td></td><td></td><td>%s</td>", u2h(r[fBin].U))
		bytesOut(b, r)
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td>%s</td><td></td><td></td><td></td><td></td><td class=ac>%s</td><td class=ac colspan=8></td></tr>",
			u2h(r[fDreq].U), u2h(r[fDresp].U), u2h(r[fEreq].U), r[fStatus].S)
	case 3:
		b.WriteString("<tr class=socket>")
		if admin {
			b.WriteString("<td></td>")
		}
		u, eu := "", ""
		if legends {
			u, eu = "<u>", "</u>"
		}
		fmt.Fprintf(b, "<td class=ac><a name=\"%s/+%s\"></a>%s<a class=lfsb href=\"#%s/+%s\">%s</a>", px, sv, u, px, sv, sv)
		if legends {
			b.WriteString("<div class=tips>")
			switch addr := r[fAddr].S; {
			case addr != "" && addr[0] >= '0' && addr[0] <= '9':
				fmt.Fprintf(b, "IPv4: %s, ", addr)
			case strings.HasPrefix(addr, "["):
				fmt.Fprintf(b, "IPv6: %s, ", addr)
			case addr != "":
				fmt.Fprintf(b, "%s, ", addr)
			}
			fmt.Fprintf(b, "id: %d</div>", r[fSid].U)
		}
		fmt.Fprintf(b, "%s</td><td colspan=3></td><td colspan=3>&nbsp;</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>&nbsp;</td><td>&nbsp;</td><td>%s</td><td>%s</td>",
			eu, u2h(r[fScur].U), u2h(r[fSmax].U), u2h(r[fSlim].U), u2h(r[fStot].U), u2h(r[fBin].U), u2h(r[fBout].U))
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td>%s</td><td></td><td></td><td></td><td></td><td class=ac>%s</td><td class=ac colspan=8></td></tr>",
			u2h(r[fDreq].U), u2h(r[fDresp].U), u2h(r[fEreq].U), r[fStatus].S)
	case TypeServer:
		fmt.Fprintf(b, "<tr class=\"%s\">", serverStyle(r))
		if admin {
			fmt.Fprintf(b, "<td><input class='%s-checkbox' type=\"checkbox\" name=\"s\" value=\"%s\"></td>", px, sv)
		}
		fmt.Fprintf(b, "<td class=ac><a name=\"%s/%s\"></a>", px, sv)
		if legends {
			b.WriteString("<u>")
		}
		fmt.Fprintf(b, "<a class=lfsb href=\"#%s/%s\">%s</a>", px, sv, sv)
		nameTips(b, r, legends)
		if legends {
			b.WriteString("</u>")
		}
		fmt.Fprintf(b, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td></td>",
			u2h(r[fQcur].U), u2h(r[fQmax].U), lim2a(r[fQlimit].U, "-"), u2h(r[fRate].U), u2h(r[fRateMax].U))
		ilim := "-"
		if r[fSrvIlim].present() {
			ilim = u2h(r[fSrvIlim].U)
		}
		fmt.Fprintf(b, "<td><u>%s<div class=tips><table class=det><tr><th>Current active connections:</th><td>%s</td></tr>"+
			"<tr><th>Current used connections:</th><td>%s</td></tr><tr><th>Current idle connections:</th><td>%s</td></tr>"+
			"<tr><th>- unsafe:</th><td>%s</td></tr><tr><th>- safe:</th><td>%s</td></tr>"+
			"<tr><th>Estimated need of connections:</th><td>%s</td></tr><tr><th>Active connections limit:</th><td>%s</td></tr>"+
			"<tr><th>Idle connections limit:</th><td>%s</td></tr></table></div></u></td><td>%s</td><td>%s</td>"+
			"<td><u>%s<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>%s</td></tr>",
			u2h(r[fScur].U), u2h(r[fScur].U), u2h(r[fUsedConnCur].U), u2h(r[fSrvIcur].U), u2h(r[fIdleConnCur].U),
			u2h(r[fSafeConnCur].U), u2h(r[fNeedConnEst].U), lim2a(r[fSlim].U, "-"), ilim, u2h(r[fSmax].U),
			lim2a(r[fSlim].U, "-"), u2h(r[fStot].U), u2h(r[fStot].U))
		if http {
			req := r[fReqTot].U
			fmt.Fprintf(b, "<tr><th>New connections:</th><td>%s</td></tr><tr><th>Reused connections:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>Cum. HTTP requests:</th><td>%s</td></tr><tr><th>- HTTP 1xx responses:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>- HTTP 2xx responses:</th><td>%s</td><td>(%d%%)</td></tr><tr><th>- HTTP 3xx responses:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>- HTTP 4xx responses:</th><td>%s</td><td>(%d%%)</td></tr><tr><th>- HTTP 5xx responses:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>- other responses:</th><td>%s</td><td>(%d%%)</td></tr><tr><th>Failed hdr rewrites:</th><td>%s</td></tr>"+
				"<tr><th>Internal error:</th><td>%s</td></tr>",
				u2h(r[fConnect].U), u2h(r[fReuse].U), pct(r[fReuse].U, r[fConnect].U+r[fReuse].U), u2h(req),
				u2h(r[fHrsp1xx].U), pct(r[fHrsp1xx].U, req), u2h(r[fHrsp2xx].U), pct(r[fHrsp2xx].U, req),
				u2h(r[fHrsp3xx].U), pct(r[fHrsp3xx].U, req), u2h(r[fHrsp4xx].U), pct(r[fHrsp4xx].U, req),
				u2h(r[fHrsp5xx].U), pct(r[fHrsp5xx].U, req), u2h(r[fHrspOther].U), pct(r[fHrspOther].U, req),
				u2h(r[fWrew].U), u2h(r[fEint].U))
		}
		timesTips(b, r, http)
		fmt.Fprintf(b, "</table></div></u></td><td>%s</td><td>%s</td>", u2h(r[fLbtot].U), humanTime(int(r[fLastsess].N)))
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td></td><td>%s</td><td></td><td>%s</td>"+
			"<td><u>%s<div class=tips>Connection resets during transfers: %d client, %d server</div></u></td><td>%d</td><td>%d</td>",
			u2h(r[fBin].U), u2h(r[fBout].U), u2h(r[fDresp].U), u2h(r[fEcon].U), u2h(r[fEresp].U),
			r[fCliAbrt].U, r[fSrvAbrt].U, r[fWretr].U, r[fWredis].U)
		serverStatusCells(b, r)
	case TypeBackend:
		b.WriteString("<tr class=\"backend\">")
		if admin {
			b.WriteString("<td></td>")
		}
		b.WriteString("<td class=ac>")
		if legends {
			b.WriteString("<u>")
		}
		fmt.Fprintf(b, "<a name=\"%s/Backend\"></a><a class=lfsb href=\"#%s/Backend\">Backend</a>", px, px)
		if legends {
			b.WriteString("<div class=tips>balancing: " + r[fAlgo].S)
			if r[fCookie].present() {
				b.WriteString(", cookie: '" + htmlEncode(r[fCookie].S) + "'")
			}
			b.WriteString("</div></u>")
		}
		fmt.Fprintf(b, "</td><td>%s</td><td>%s</td><td></td><td>%s</td><td>%s</td><td></td>",
			u2h(r[fQcur].U), u2h(r[fQmax].U), u2h(r[fRate].U), u2h(r[fRateMax].U))
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td>%s</td><td><u>%s<div class=tips><table class=det><tr><th>Cum. sessions:</th><td>%s</td></tr>",
			u2h(r[fScur].U), u2h(r[fSmax].U), u2h(r[fSlim].U), u2h(r[fStot].U), u2h(r[fStot].U))
		if http {
			fmt.Fprintf(b, "<tr><th>New connections:</th><td>%s</td></tr><tr><th>Reused connections:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>Cum. HTTP requests:</th><td>%s</td></tr><tr><th>- HTTP 1xx responses:</th><td>%s</td></tr>"+
				"<tr><th>- HTTP 2xx responses:</th><td>%s</td></tr><tr><th>&nbsp;&nbsp;Compressed 2xx:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>- HTTP 3xx responses:</th><td>%s</td></tr><tr><th>- HTTP 4xx responses:</th><td>%s</td></tr>"+
				"<tr><th>- HTTP 5xx responses:</th><td>%s</td></tr><tr><th>- other responses:</th><td>%s</td></tr>"+
				"<tr><th>Cache lookups:</th><td>%s</td></tr><tr><th>Cache hits:</th><td>%s</td><td>(%d%%)</td></tr>"+
				"<tr><th>Failed hdr rewrites:</th><td>%s</td></tr><tr><th>Internal errors:</th><td>%s</td></tr>",
				u2h(r[fConnect].U), u2h(r[fReuse].U), pct(r[fReuse].U, r[fConnect].U+r[fReuse].U), u2h(r[fReqTot].U),
				u2h(r[fHrsp1xx].U), u2h(r[fHrsp2xx].U), u2h(r[fCompRsp].U), pct(r[fCompRsp].U, r[fHrsp2xx].U),
				u2h(r[fHrsp3xx].U), u2h(r[fHrsp4xx].U), u2h(r[fHrsp5xx].U), u2h(r[fHrspOther].U),
				u2h(r[fCacheLookups].U), u2h(r[fCacheHits].U), pct(r[fCacheHits].U, r[fCacheLookups].U), u2h(r[fWrew].U), u2h(r[fEint].U))
		}
		timesTips(b, r, http)
		fmt.Fprintf(b, "</table></div></u></td><td>%s</td><td>%s</td><td>%s</td>", u2h(r[fLbtot].U), humanTime(int(r[fLastsess].N)), u2h(r[fBin].U))
		bytesOut(b, r)
		st := r[fStatus].S
		if st == "DOWN" {
			st = "<font color=\"red\"><b>DOWN</b></font>"
		}
		fmt.Fprintf(b, "<td>%s</td><td>%s</td><td></td><td>%s</td>"+
			"<td><u>%s<div class=tips>Connection resets during transfers: %d client, %d server</div></u></td><td>%d</td><td>%d</td>"+
			"<td class=ac>%s %s</td><td class=ac>&nbsp;</td><td class=ac>%d/%d</td><td class=ac>%d</td><td class=ac>%d</td>",
			u2h(r[fDreq].U), u2h(r[fDresp].U), u2h(r[fEcon].U), u2h(r[fEresp].U), r[fCliAbrt].U, r[fSrvAbrt].U,
			r[fWretr].U, r[fWredis].U, humanTime(int(r[fLastchg].U)), st, r[fWeight].U, r[fUweight].U, r[fAct].U, r[fBck].U)
		down := "&nbsp;"
		if r[fDowntime].present() {
			down = humanTime(int(r[fDowntime].U))
		}
		fmt.Fprintf(b, "<td class=ac>&nbsp;</td><td>%d</td><td>%s</td><td></td></tr>", r[fChkdown].U, down)
	}
}

// serverStatusCells writes a server's status, check, weight, act/bck,
// check counters and throttle cells.
func serverStatusCells(b *strings.Builder, r Row) {
	st := r[fStatus].S
	b.WriteString("<td class=ac>")
	switch {
	case strings.HasPrefix(st, "MAINT"):
		b.WriteString(humanTime(int(r[fLastchg].U)) + " MAINT")
	case st == "no check":
		b.WriteString("<i>no check</i>")
	default:
		b.WriteString(humanTime(int(r[fLastchg].U)) + " " + st)
		if strings.HasPrefix(st, "DOWN") {
			if r[fCheckHealth].U != 0 {
				b.WriteString(" &uarr;")
			}
		} else if r[fCheckHealth].U < r[fCheckRise].U+r[fCheckFall].U-1 {
			b.WriteString(" &darr;")
		}
	}
	check := func(status, code, dur, desc, last int) {
		b.WriteString("</td><td class=ac><u> " + r[status].S)
		if r[code].present() {
			fmt.Fprintf(b, "/%d", r[code].U)
		}
		if r[dur].present() {
			fmt.Fprintf(b, " in %dms", r[dur].U)
		}
		b.WriteString("<div class=tips>" + r[desc].S)
		if r[last].S != "" {
			b.WriteString(": " + htmlEncode(r[last].S))
		}
		b.WriteString("</div></u>")
	}
	switch {
	case strings.HasPrefix(st, "DOWN") && r[fAgentStatus].present() && r[fAgentHealth].U == 0:
		check(fAgentStatus, fAgentCode, fAgentDuration, fAgentDesc, fLastAgt)
	case r[fCheckStatus].present():
		check(fCheckStatus, fCheckCode, fCheckDuration, fCheckDesc, fLastChk)
	default:
		b.WriteString("</td><td>")
	}
	act, bck := "Y", "-"
	if r[fBck].U != 0 {
		act, bck = "-", "Y"
	}
	fmt.Fprintf(b, "</td><td class=ac>%d/%d</td><td class=ac>%s</td><td class=ac>%s</td>", r[fWeight].U, r[fUweight].U, act, bck)
	switch {
	case st == "MAINT (resolution)":
		b.WriteString("<td class=ac colspan=3>resolution</td>")
	case r[fChkfail].present():
		fmt.Fprintf(b, "<td><u>%d", r[fChkfail].U)
		if r[fHanafail].present() {
			fmt.Fprintf(b, "/%d", r[fHanafail].U)
		}
		hana := ""
		if r[fHanafail].present() {
			hana = "/Health Analyses"
		}
		fmt.Fprintf(b, "<div class=tips>Failed Health Checks%s</div></u></td><td>%d</td><td>%s</td>", hana, r[fChkdown].U, humanTime(int(r[fDowntime].U)))
	case st != "MAINT" && r[fTracked].present():
		fmt.Fprintf(b, "<td class=ac colspan=3><a class=lfsb href=\"#%s\">via %s</a></td>", r[fTracked].S, r[fTracked].S)
	default:
		b.WriteString("<td colspan=3></td>")
	}
	if r[fThrottle].present() {
		fmt.Fprintf(b, "<td class=ac>%d %%</td>\n", r[fThrottle].U)
	} else {
		b.WriteString("<td class=ac>-</td>")
	}
	b.WriteString("</tr>\n")
}
