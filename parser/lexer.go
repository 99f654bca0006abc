package parser

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types produced by the line lexer. Every physical line ends with one
// EOL token whose value is the raw line, terminator included, so that the AST
// keeps the source byte for byte. A line that the lexer consumed itself
// (conditional-block directive, inactive branch, tokenizing error) carries a
// Skip token before its EOL instead of words.
const (
	tokWord lexer.TokenType = -(iota + 2)
	tokSkip
	tokEOL
)

// MaxLineLen is HAProxy's limit on one configuration line (bytes).
const MaxLineLen = 65535

// maxArgs is HAProxy's MAX_LINE_ARGS: words beyond it are an error.
const maxArgs = 64

type lineDef struct{}

func (lineDef) Symbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{"EOF": lexer.EOF, "Word": tokWord, "Skip": tokSkip, "EOL": tokEOL}
}

// Lex is only here to satisfy lexer.Definition; parsing always goes through
// a cfgLexer built by Parse because the lexer carries per-file state
// (environment overlay, conditional blocks, diagnostics).
func (lineDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	st := &lexState{env: newEnv(nil)}
	return st.lexFile(filename, b), nil
}

// sliceLexer returns pre-computed tokens.
type sliceLexer struct {
	toks []lexer.Token
	i    int
}

func (s *sliceLexer) Next() (lexer.Token, error) {
	if s.i >= len(s.toks) {
		var pos lexer.Position
		if n := len(s.toks); n > 0 {
			pos = s.toks[n-1].Pos
		}
		return lexer.EOFToken(pos), nil
	}
	t := s.toks[s.i]
	s.i++
	return t, nil
}

// lexState is the per-parse preprocessor: it tokenizes lines, applies the
// global section's setenv family as HAProxy does while reading, evaluates
// .if blocks and reports what it finds.
type lexState struct {
	env     *env
	diags   Diagnostics
	section string // current section keyword, for setenv handling
	conds   []condFrame
	// abort is set by errors after which HAProxy stops reading the file.
	abort bool
	// compat makes a missing final LF fatal, as in HAProxy 2.6.
	compat bool
}

type condFrame struct {
	pos    Pos
	active bool // this branch is taken
	done   bool // a branch of this block was already taken
	parent bool // the enclosing block is active
	inElse bool
}

func (st *lexState) active() bool {
	if n := len(st.conds); n > 0 {
		c := st.conds[n-1]
		return c.parent && c.active
	}
	return true
}

func (st *lexState) lexFile(filename string, b []byte) *sliceLexer {
	// Words are separated by blanks and a line ends with one token:
	// counting them sizes the token list once, without regrowing it.
	n := bytes.Count(b, []byte{' '}) + bytes.Count(b, []byte{'\t'}) + 2*bytes.Count(b, []byte{'\n'}) + 4
	out := &sliceLexer{toks: make([]lexer.Token, 0, n)}
	line := 0
	off := 0
	for off < len(b) {
		line++
		end := off
		for end < len(b) && b[end] != '\n' {
			end++
		}
		rawEnd := end
		if end < len(b) {
			rawEnd = end + 1
		}
		raw := string(b[off:rawEnd])
		content := b[off:end]
		pos := Pos{File: filename, Line: line, Col: 1}
		lpos := lexer.Position{Filename: filename, Offset: off, Line: line, Column: 1}
		if len(content) > MaxLineLen {
			st.diags = append(st.diags, Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
				Msg: fmt.Sprintf("line too long, limit is %d characters", MaxLineLen)})
			out.toks = append(out.toks, lexer.Token{Type: tokSkip, Pos: lpos}, lexer.Token{Type: tokEOL, Value: raw, Pos: lpos})
			off = rawEnd
			continue
		}
		st.lexLine(out, content, pos, lpos)
		out.toks = append(out.toks, lexer.Token{Type: tokEOL, Value: raw, Pos: lpos})
		if st.abort {
			st.conds = nil
			return out
		}
		if rawEnd == end { // no LF on the last line
			d := Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight, order: 1,
				Msg: fmt.Sprintf("Missing LF on last line, file might have been truncated at position %d.", len(content)+1)}
			if !st.compat {
				// HAProxy 2.6 refuses such a file; gohap reads the line
				// as complete and says so.
				d.Severity, d.Fatal = Warning, false
				d.Hint = "add a newline at the end of the file (HAProxy 2.6 rejects it)"
			}
			st.diags = append(st.diags, d)
		}
		off = rawEnd
	}
	if n := len(st.conds); n > 0 {
		st.diags = append(st.diags, Diagnostic{Severity: Alert, Fatal: true, Pos: Pos{File: filename, Line: line}, Style: StyleParsingTight, order: 2,
			Msg: "non-terminated '.if' block."})
		st.conds = st.conds[:0]
	}
	return out
}

// lexLine tokenizes one line and appends its word tokens (or a Skip token).
func (st *lexState) lexLine(out *sliceLexer, content []byte, pos Pos, lpos lexer.Position) {
	words, cols, perr := splitLine(content, st.env, pos.Line)
	if perr != nil {
		st.diags = append(st.diags, perr.diag(content, pos))
		out.toks = append(out.toks, lexer.Token{Type: tokSkip, Pos: lpos})
		return
	}
	if len(words) == 0 {
		return
	}
	if strings.HasPrefix(words[0], ".") && st.directive(words, pos) {
		out.toks = append(out.toks, lexer.Token{Type: tokSkip, Pos: lpos})
		return
	}
	if !st.active() {
		out.toks = append(out.toks, lexer.Token{Type: tokSkip, Pos: lpos})
		return
	}
	if isSectionKeyword(words[0]) {
		st.section = words[0]
	} else if st.section == "global" {
		st.env.apply(words)
	}
	for i, w := range words {
		p := lpos
		p.Column = cols[i]
		out.toks = append(out.toks, lexer.Token{Type: tokWord, Value: w, Pos: p})
	}
}

// lineError is a tokenizing error: the kind of error and the 0-based byte
// offset in the line where it was found.
type lineError struct {
	msg string
	at  int
	// arg is set for "too many words".
	arg string
}

func (e *lineError) diag(content []byte, pos Pos) Diagnostic {
	if e.arg != "" {
		return Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
			Msg: fmt.Sprintf("too many words, truncating after word %d, position %d: <%s>.", maxArgs, e.at+1, e.arg)}
	}
	lead := 0
	for lead < len(content) && (content[lead] == ' ' || content[lead] == '\t') {
		lead++
	}
	trimmed := strings.TrimRight(string(content[lead:]), "\r")
	caret := e.at - lead
	if caret < 0 {
		caret = 0
	}
	return Diagnostic{Severity: Alert, Fatal: true, Pos: pos, Style: StyleParsingTight,
		Msg:    fmt.Sprintf("%s at position %d:", e.msg, e.at+1),
		Detail: []string{"  " + trimmed, "  " + strings.Repeat(" ", caret) + "^"}}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitLine splits one line into words following HAProxy 2.6's parse_line
// with quotes, backslash escapes, '#' comments, environment variables inside
// double quotes and "${VAR[*]}" word expansion. cols are the 1-based columns
// where each word starts.
func splitLine(in []byte, e *env, lineNo int) (words []string, cols []int, perr *lineError) {
	// Most lines have a few words: one allocation each, no regrowth.
	words, cols = make([]string, 0, 8), make([]int, 0, 8)
	var cur []byte
	inWord := false
	squote, dquote := false, false
	quoteAt := 0
	start := 0
	endWord := func() {
		if inWord {
			words = append(words, string(cur))
			cols = append(cols, start+1)
		}
		cur = cur[:0]
		inWord = false
	}
	begin := func(i int) {
		if !inWord {
			inWord = true
			start = i
		}
	}
	i := 0
	for i < len(in) {
		c := in[i]
		if !squote && !dquote {
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				endWord()
				i++
				continue
			}
			if c == '#' {
				break
			}
		}
		switch {
		case c == '\'' && !dquote:
			begin(i)
			squote = !squote
			quoteAt = i
			i++
		case c == '"' && !squote:
			begin(i)
			dquote = !dquote
			quoteAt = i
			i++
		case c == '\\' && !squote:
			begin(i)
			out := c
			var next byte
			if i+1 < len(in) {
				next = in[i+1]
			}
			switch next {
			case ' ', '\\':
				out = next
				i++
			case 't':
				out = '\t'
				i++
			case 'n':
				out = '\n'
				i++
			case 'r':
				out = '\r'
				i++
			case '#', '\'', '"':
				out = next
				i++
			case '$':
				if dquote {
					out = next
					i++
				}
			case 'x':
				if i+3 >= len(in) || !isHex(in[i+2]) || !isHex(in[i+3]) {
					return nil, nil, &lineError{msg: "truncated or invalid hexadecimal sequence", at: i}
				}
				out = hexVal(in[i+2])<<4 | hexVal(in[i+3])
				i += 3
			}
			cur = append(cur, out)
			i++
		case c == '$' && dquote:
			begin(i)
			j := i + 1
			brace := -1
			if j < len(in) && in[j] == '{' {
				brace = j
				j++
			}
			if j >= len(in) || !(isAlnum(in[j]) && !(in[j] >= '0' && in[j] <= '9') || in[j] == '_' || in[j] == '.') {
				return nil, nil, &lineError{msg: "forbidden first char in environment variable name", at: j}
			}
			nameStart := j
			if in[j] == '.' {
				j++
			}
			for j < len(in) && (isAlnum(in[j]) || in[j] == '_') {
				j++
			}
			name := string(in[nameStart:j])
			val, ok := e.lookup(name, lineNo)
			expand := false
			if j < len(in) && in[j] == '[' && brace >= 0 {
				if j+2 >= len(in) || in[j+1] != '*' || in[j+2] != ']' {
					return nil, nil, &lineError{msg: "truncated or invalid word expansion sequence", at: j}
				}
				expand = true
				j += 3
			}
			if brace >= 0 {
				if j < len(in) && in[j] == '-' {
					k := j + 1
					for k < len(in) && in[k] != '}' {
						k++
					}
					if k >= len(in) {
						return nil, nil, &lineError{msg: "unmatched brace in environment variable name", at: brace}
					}
					if !ok {
						val, ok = string(in[j+1:k]), true
					}
					j = k
				} else if j >= len(in) || in[j] != '}' {
					return nil, nil, &lineError{msg: "unmatched brace in environment variable name", at: brace}
				}
				j++
			}
			if ok {
				if expand {
					fields := strings.Fields(val)
					for fi, f := range fields {
						if fi > 0 {
							words = append(words, string(cur))
							cols = append(cols, start+1)
							cur = cur[:0]
						}
						cur = append(cur, f...)
					}
				} else {
					cur = append(cur, val...)
				}
			}
			i = j
		default:
			begin(i)
			cur = append(cur, c)
			i++
		}
	}
	if squote || dquote {
		return nil, nil, &lineError{msg: "unmatched quote", at: quoteAt}
	}
	endWord()
	if len(words) > maxArgs {
		return nil, nil, &lineError{at: cols[maxArgs] - 1, arg: strings.Join(words[maxArgs:], " ")}
	}
	return words, cols, nil
}
