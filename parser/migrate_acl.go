package parser

import (
	"fmt"
	"strings"
)

// ACLs in an anonymous defaults section.
//
// No HAProxy version gave such a line a meaning. From 1.3.10, where 'acl'
// appeared, to 1.3.15.4 the parser crashed on it (its list head in the
// defaults proxy was not initialised); 1.3.15.5 and 1.3.16 refused it with
// "'acl' not allowed in 'defaults' section" (commit b099aca91, "[BUG]
// acl-related keywords are not allowed in defaults sections"), and so did
// every version up to 2.4. 2.5 accepts it in named defaults sections only,
// where "ACLs defined in a defaults section are not visible from other
// sections using it" (configuration.txt, 'acl'). So the line is commented
// out as a manual action, and copied into each frontend, backend or listen
// section that inherits from that defaults section, names the ACL in a
// condition and does not declare it itself: that is the only reading under
// which the file makes sense, and the note asks to check it.

// defaultsACL is an acl line of an anonymous defaults section.
type defaultsACL struct {
	idx    int      // index in m.lines
	name   string   // ACL name
	copies []string // sections it is copied into
	own    []string // sections that use the name but declare it themselves
}

// scanDefaultsACLs finds the acl lines of anonymous defaults sections and
// the proxies that use them.
func (m *migrator) scanDefaultsACLs() {
	m.aclCopies = map[int][]*defaultsACL{}
	m.defaultsACLs = map[int]*defaultsACL{}
	var inherited []*defaultsACL // acl lines of the last defaults section
	for i := 0; i < len(m.lines); {
		a := m.lines[i].Args()
		if len(a) == 0 || !isSectionKeyword(a[0]) {
			i++
			continue
		}
		end := i + 1
		for end < len(m.lines) && !(len(m.lines[end].Words) > 0 && isSectionKeyword(m.lines[end].Words[0].Value)) {
			end++
		}
		switch a[0] {
		case "defaults":
			inherited = nil
			if len(a) > 1 && a[1] != "from" {
				break // named: 2.6 accepts acl there
			}
			for j := i + 1; j < end; j++ {
				if b := m.lines[j].Args(); len(b) > 1 && b[0] == "acl" {
					d := &defaultsACL{idx: j, name: b[1]}
					m.defaultsACLs[j] = d
					inherited = append(inherited, d)
				}
			}
		case "frontend", "backend", "listen":
			if hasFrom(a) || len(inherited) == 0 {
				break
			}
			declared, used := map[string]bool{}, map[string]bool{}
			for j := i + 1; j < end; j++ {
				b := m.lines[j].Args()
				if len(b) > 1 && b[0] == "acl" {
					declared[b[1]] = true
					continue
				}
				for _, n := range condACLs(b) {
					used[n] = true
				}
			}
			name := a[0] + " '" + arg(a, 1) + "'"
			for _, d := range inherited {
				switch {
				case !used[d.name]:
				case declared[d.name]:
					d.own = appendOnce(d.own, name)
				default:
					m.aclCopies[i] = append(m.aclCopies[i], d)
					d.copies = appendOnce(d.copies, name)
				}
			}
		}
		i = end
	}
}

func hasFrom(a []string) bool {
	for _, w := range a[1:] {
		if w == "from" {
			return true
		}
	}
	return false
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// condACLs returns the ACL names of a line's if/unless condition, outside
// anonymous { } ACLs.
func condACLs(a []string) []string {
	if len(a) == 0 {
		// a comment or blank line
		return nil
	}
	var names []string
	in, depth := false, 0
	for _, w := range a[1:] {
		switch {
		case !in:
			in = w == "if" || w == "unless"
		case w == "{":
			depth++
		case w == "}":
			depth--
		case depth > 0, w == "||", w == "or", w == "!":
		default:
			names = append(names, strings.TrimPrefix(w, "!"))
		}
	}
	return names
}

// defaultsACL comments out an acl line of an anonymous defaults section.
func (m *migrator) defaultsACL(l *Line, d *defaultsACL) {
	note := "no HAProxy version accepted 'acl' in a defaults section (1.3.16 to 2.4 refused it, older versions crashed, 2.5+ hides it from the proxies)"
	if len(d.copies) > 0 {
		note += "; copied into the sections that use '" + d.name + "': " + strings.Join(d.copies, ", ") + "; check that this is what was meant"
	} else {
		note += "; no proxy uses '" + d.name + "' without declaring it"
	}
	if len(d.own) > 0 {
		note += "; not copied into those that declare their own '" + d.name + "': " + strings.Join(d.own, ", ")
	}
	m.manual(l, "acl-defaults", note)
}

// copyDefaultsACLs writes, at the top of the proxy opened at line idx, the
// acl lines it uses from its anonymous defaults section.
func (m *migrator) copyDefaultsACLs(idx int, l *Line, eol string) {
	ds := m.aclCopies[idx]
	if len(ds) == 0 {
		return
	}
	ind := m.bodyIndent(idx)
	m.emit(ind, fmt.Sprintf("# gohap migrate: acl lines copied from the defaults section at line %d", m.lines[ds[0].idx].Pos.Line), eol)
	for _, d := range ds {
		src := m.lines[d.idx]
		// The defaults line was written first, in 2.x syntax if needed.
		text := strings.TrimSpace(src.Raw)
		m.emit(ind, text, eol)
		m.changes = append(m.changes, Change{Pos: Pos{File: m.file, Line: l.Pos.Line}, Rule: "acl-defaults", After: text,
			Note: fmt.Sprintf("copied from the defaults section, line %d", src.Pos.Line)})
	}
}
