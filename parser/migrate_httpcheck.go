package parser

import (
	"fmt"
	"strings"
)

// Consecutive 'http-check send' lines.
//
// 1.x had no 'http-check send': extra check headers were written after the
// version of 'option httpchk' ("HTTP/1.1\r\nHost:\ x\r\nUser-Agent:\ y"),
// which 1.x sent verbatim, so every header went in the one request.
// 'http-check send' appeared in 2.2-dev7 (commit 8acb1284b), where a second
// line replaced the first; from 2.2-dev8 on (commit e5870d872, "MAJOR:
// checks: Implement HTTP check using tcp-check rules") each send starts a
// new request, and a send that follows another one without an 'http-check
// connect' between them is refused: "unable to add http-check send rule at
// step 2 (missing connect rule)" (tcpcheck_add_http_rule() in
// src/tcpcheck.c). A run of such lines, including the headers taken from
// 'option httpchk', becomes one 'http-check send' line that sends them all,
// as 1.x did. A line that sets again a part the request already has (meth,
// uri, ver, body, comment) has no such reading and is commented out.

// sendPart is one keyword of an 'http-check send' line with its values.
type sendPart struct {
	key  string
	vals []string
}

// sendGroup is a run of http-check send rules of one section that 2.6
// refuses and that migrate writes as one line.
type sendGroup struct {
	members  []int // indexes in m.lines, in order
	parts    []sendPart
	conflict map[int]string // member index -> part set twice
}

// sendKeys maps each 'http-check send' keyword to the request part it sets
// and its number of values.
var sendKeys = map[string]struct {
	part string
	n    int
}{
	"meth": {"meth", 1}, "uri": {"uri", 1}, "uri-lf": {"uri", 1}, "ver": {"ver", 1},
	"hdr": {"", 2}, "body": {"body", 1}, "body-lf": {"body", 1}, "comment": {"comment", 1},
}

// sendParts parses the arguments of an 'http-check send' line; ok is false
// for a keyword 2.6 does not know there.
func sendParts(a []string) (parts []sendPart, ok bool) {
	for i := 0; i < len(a); {
		k, known := sendKeys[a[i]]
		if !known || i+k.n >= len(a) {
			return nil, false
		}
		parts = append(parts, sendPart{a[i], a[i+1 : i+1+k.n]})
		i += 1 + k.n
	}
	return parts, true
}

// httpchkHeaders returns the headers hidden after the version of a 1.x
// 'option httpchk' line as hdr parts, and the line without them; ok is
// false when the line hides nothing.
func httpchkHeaders(words []string) (parts []sendPart, line []string, ok bool) {
	if len(words) < 5 || !strings.Contains(words[4], "\r\n") {
		return nil, nil, false
	}
	hs := strings.Split(words[4], "\r\n")
	for _, h := range hs[1:] {
		if n, v, ok := strings.Cut(h, ":"); ok {
			parts = append(parts, sendPart{"hdr", []string{n, strings.TrimLeft(v, " ")}})
		}
	}
	return parts, []string{"option", "httpchk", words[2], words[3], hs[0]}, true
}

// scanHTTPCheckSends finds, in each section, the runs of send rules with no
// other http-check rule between them.
func (m *migrator) scanHTTPCheckSends() {
	m.sendGroups = map[int]*sendGroup{}
	var cur *sendGroup
	flush := func() {
		if cur != nil && len(cur.members) > 1 {
			for _, i := range cur.members {
				m.sendGroups[i] = cur
			}
		}
		cur = nil
	}
	for i, l := range m.lines {
		a := l.Args()
		if len(a) == 0 {
			continue
		}
		var parts []sendPart
		switch {
		case isSectionKeyword(a[0]):
			flush()
			continue
		case a[0] == "option" && arg(a, 1) == "httpchk":
			if parts, _, _ = httpchkHeaders(a); parts == nil {
				continue
			}
		case a[0] == "http-check" && arg(a, 1) == "send":
			var ok bool
			if parts, ok = sendParts(restOf(a, 2)); !ok {
				flush()
				continue
			}
		case a[0] == "http-check" && arg(a, 1) != "disable-on-404" && arg(a, 1) != "send-state":
			flush() // connect, expect, comment, set-var, unset-var
			continue
		default:
			continue
		}
		if cur == nil {
			cur = &sendGroup{conflict: map[int]string{}}
		}
		cur.add(i, parts)
	}
	flush()
}

// add merges the parts of one member into the group.
func (g *sendGroup) add(i int, parts []sendPart) {
	for _, p := range parts {
		if part := sendKeys[p.key].part; part != "" {
			for _, q := range g.parts {
				if sendKeys[q.key].part == part {
					g.conflict[i] = p.key
				}
			}
		}
	}
	g.members = append(g.members, i)
	if _, bad := g.conflict[i]; !bad {
		g.parts = append(g.parts, parts...)
	}
}

// words renders the merged line: request line parts, headers, then body
// and comment.
func (g *sendGroup) words() []string {
	w := []string{"http-check", "send"}
	for _, part := range []string{"meth", "uri", "ver", "", "body", "comment"} {
		for _, p := range g.parts {
			if sendKeys[p.key].part == part {
				w = append(w, p.key)
				w = append(w, p.vals...)
			}
		}
	}
	return w
}

// httpchk rewrites a 1.x 'option httpchk' line that hides headers after
// the version.
func (m *migrator) httpchk(idx int, l *Line, words []string, ind, eol string) bool {
	parts, line, ok := httpchkHeaders(words)
	if !ok {
		return false
	}
	text := joinWords(line)
	m.emit(ind, text, eol)
	m.change(l, "option httpchk", text, "")
	if g := m.sendGroups[idx]; g != nil {
		if idx == g.members[0] {
			m.httpCheckSend(idx, l, ind, eol)
		}
		return true
	}
	if len(parts) > 0 {
		g := &sendGroup{parts: parts}
		m.emit(ind, joinWords(g.words()), eol)
	}
	return true
}

// httpCheckSend writes the member idx of a group: the first one becomes
// the merged line, the others go.
func (m *migrator) httpCheckSend(idx int, l *Line, ind, eol string) {
	g := m.sendGroups[idx]
	first := m.lines[g.members[0]].Pos.Line
	switch {
	case g.conflict[idx] != "":
		m.manual(l, "http-check send", fmt.Sprintf("the request of line %d already sets '%s': 2.6 needs 'http-check connect' before a second request", first, g.conflict[idx]))
	case idx == g.members[0] && len(g.conflict) == len(g.members)-1 && l.Args()[0] == "http-check":
		// Every other line of the run is commented out: this one stays.
		m.out.WriteString(l.Raw)
	case idx == g.members[0]:
		text := joinWords(g.words())
		m.emit(ind, text, eol)
		m.change(l, "http-check send", text, "2.6 refuses consecutive 'http-check send' lines (missing connect rule): one line sends all their headers")
	default:
		m.change(l, "http-check send", "", fmt.Sprintf("merged into the 'http-check send' line at line %d", first))
	}
}
