package runtime

import "github.com/gohap/gohap/parser"

// caseMap is h1-case-adjust's map for one side, nil when that side's
// option is off or the map is empty: the lowercase name and the name as
// sent, which differ only by case.
type caseMap map[string]string

func compileCaseMap(cfg *parser.Config, on bool, fail func(parser.Pos, string, ...any)) caseMap {
	if !on {
		return nil
	}
	// Checking the configuration reads the file; a configuration compiled
	// unchecked reads it here.
	for _, d := range parser.H1CasePostDiags(cfg) {
		fail(cfg.Global.Pos, "%s", d.Msg)
	}
	if len(cfg.Global.H1Case.To) == 0 {
		return nil
	}
	return caseMap(cfg.Global.H1Case.To)
}

// adjust rewrites, in place, the names of head's header lines that the
// map knows into their adjusted case, as HAProxy's HTTP/1 multiplexer
// does when it writes a head. The start line is left alone.
func (m caseMap) adjust(head []byte) {
	if m == nil {
		return
	}
	i := 0
	for i < len(head) && head[i] != '\n' {
		i++
	}
	for i++; i < len(head); {
		end := i
		for end < len(head) && head[end] != '\n' {
			end++
		}
		line := head[i:end]
		if len(line) == 0 || line[0] == '\r' {
			return
		}
		colon := 0
		for colon < len(line) && line[colon] != ':' {
			colon++
		}
		if name := line[:colon]; colon > 0 {
			if to, ok := m[string(name)]; ok && len(to) == colon {
				copy(name, to)
			}
		}
		i = end + 1
	}
}

// adjusted is page with its head adjusted, a copy when the map changes
// anything: pages may be shared.
func (m caseMap) adjusted(page []byte) []byte {
	if m == nil {
		return page
	}
	p := append([]byte(nil), page...)
	m.adjust(p)
	return p
}
