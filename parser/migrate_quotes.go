package parser

import "strings"

// Quotes before HAProxy 1.6.
//
// Until 1.5, readcfgfile() in src/cfgparse.c split a line on unescaped
// spaces only: ' and " were plain characters, and a backslash escaped only
// a space, '\', '#', r, n, t and xHH (any other backslash stayed as it
// was). Quoting came with 1.6 (commit f9873ba63, "MEDIUM: cfgparse:
// introduce weak and strong quoting"), so 'stats realm L'broker' is an
// unmatched quote since then. A file with such a line loaded only in 1.5
// or earlier, so all its lines meant what the 1.5 tokenizer read: the
// lines that hold a quote character are read again that way and written
// with 2.x quoting.

// legacyQuoteMsg is the tokenizer error that marks a pre-1.6 file.
const legacyQuoteMsg = "unmatched quote"

// findLegacyQuotes reads again, with the 1.5 tokenizer, the lines that hold
// a quote character when at least one line of the file has an unmatched
// quote for the 2.x tokenizer.
func (m *migrator) findLegacyQuotes(ds []Diagnostic) {
	pre16 := false
	for _, d := range ds {
		if strings.HasPrefix(d.Msg, legacyQuoteMsg+" ") {
			pre16 = true
			break
		}
	}
	if !pre16 {
		return
	}
	m.requoted = map[*Line]string{}
	for _, l := range m.lines {
		content := strings.TrimSuffix(l.Raw, "\n")
		if !strings.ContainsAny(content, `'"`) {
			continue
		}
		words, cols, comment := splitLine15(content)
		if len(words) == 0 || sameWords(l.Words, words) {
			continue
		}
		l.Words = l.Words[:0]
		for i, w := range words {
			p := l.Pos
			p.Column = cols[i]
			l.Words = append(l.Words, Word{Pos: p, Value: w})
		}
		m.requoted[l] = comment
	}
}

func sameWords(ws []Word, s []string) bool {
	if len(ws) != len(s) {
		return false
	}
	for i, w := range ws {
		if w.Value != s[i] {
			return false
		}
	}
	return true
}

// splitLine15 splits a line as HAProxy 1.5's readcfgfile() did. cols are
// the 1-based columns where words start; comment is the text from the
// spaces before an unescaped '#' to the end of the line, "" if none.
func splitLine15(in string) (words []string, cols []int, comment string) {
	var cur []byte
	inWord := false
	end := func() {
		if inWord {
			words = append(words, string(cur))
		}
		cur, inWord = cur[:0], false
	}
	add := func(i int, c byte) {
		if !inWord {
			inWord = true
			cols = append(cols, i+1)
		}
		cur = append(cur, c)
	}
	i := 0
loop:
	for i < len(in) {
		c := in[i]
		switch {
		case c == '\\' && i+1 < len(in):
			switch n := in[i+1]; n {
			case ' ', '\\', '#':
				add(i, n)
				i += 2
			case 'r', 'n', 't':
				add(i, map[byte]byte{'r': '\r', 'n': '\n', 't': '\t'}[n])
				i += 2
			case 'x':
				if i+3 < len(in) && isHex(in[i+2]) && isHex(in[i+3]) {
					add(i, hexVal(in[i+2])<<4|hexVal(in[i+3]))
					i += 4
					continue
				}
				add(i, c)
				i++
			default:
				add(i, c)
				i++
			}
		case c == '#' || c == '\r' || c == '\n':
			j := i
			for j > 0 && (in[j-1] == ' ' || in[j-1] == '\t') {
				j--
			}
			if c == '#' {
				comment = strings.TrimRight(in[j:], "\r")
			}
			break loop
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			end()
			i++
		default:
			add(i, c)
			i++
		}
	}
	end()
	return words, cols, comment
}

// requote writes a line read with the 1.5 tokenizer in 2.x syntax, keeping
// its indentation and comment, and returns the new raw line.
func (m *migrator) requote(l *Line, raw string) string {
	comment, ok := m.requoted[l]
	if !ok {
		return raw
	}
	text := joinWords(l.Args())
	out := indentOf(raw) + text + comment + eolOf(raw)
	m.change(l, "quotes", text+comment, "before 1.6, ' and \" were plain characters; 2.x reads them as quotes")
	return out
}
