package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// File is the AST of one configuration file: every physical line, in source
// order, including blank, comment and directive lines.
type File struct {
	Lines []*Line `parser:"@@*"`
}

// Line is one physical line. Words holds the line's arguments after quote,
// escape and environment processing; it is empty for blank and comment lines
// and for lines the preprocessor consumed (Skip). Raw is the line as read,
// terminator included. Its grammar is Word* Skip? EOL.
type Line struct {
	Pos   lexer.Position
	Words []Word
	Skip  bool
	Raw   string
}

// Word is one argument of a line; Pos gives the column where it starts.
type Word struct {
	Pos   lexer.Position
	Value string
}

// Parse implements participle.Parseable: a line is the hot production of
// the grammar (one per physical line), so it is matched directly on the
// token stream instead of through reflection.
func (l *Line) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.EOF() {
		return participle.NextMatch
	}
	l.Pos = t.Pos
	var buf [16]Word
	words := buf[:0]
	for {
		t = lex.Next()
		switch t.Type {
		case tokWord:
			words = append(words, Word{Pos: t.Pos, Value: t.Value})
		case tokSkip:
			l.Skip = true
		case tokEOL:
			l.Raw = t.Value
			if len(words) > 0 {
				l.Words = append([]Word(nil), words...)
			}
			return nil
		default:
			return &participle.ParseError{Msg: "unexpected end of line", Pos: t.Pos}
		}
	}
}

// Args returns the line's words as strings.
func (l *Line) Args() []string {
	out := make([]string, len(l.Words))
	for i, w := range l.Words {
		out[i] = w.Value
	}
	return out
}

var grammar = participle.MustBuild[File](
	participle.Lexer(lineDef{}),
	participle.UseLookahead(1),
)
