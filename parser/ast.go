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
// terminator included.
type Line struct {
	Pos   lexer.Position
	Words []*Word `parser:"@@*"`
	Skip  bool    `parser:"@Skip?"`
	Raw   string  `parser:"@EOL"`
}

// Word is one argument of a line; Pos gives the column where it starts.
type Word struct {
	Pos   lexer.Position
	Value string `parser:"@Word"`
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
