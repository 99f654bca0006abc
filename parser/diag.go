package parser

import (
	"fmt"
	"strings"
)

// Severity of a Diagnostic, ordered from least to most serious.
type Severity int

// Severities, named after HAProxy's message labels.
const (
	Notice Severity = iota
	Warning
	Alert
)

// String returns the lower-case name used by JSON output.
func (s Severity) String() string {
	switch s {
	case Notice:
		return "notice"
	case Warning:
		return "warning"
	default:
		return "alert"
	}
}

// Pos is a position in a configuration file. A zero Line means the diagnostic
// is not tied to a line (HAProxy prints no "parsing [file:line]" prefix then).
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the position as FILE:LINE.
func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Style selects how the position prefix of a message is rendered, because
// HAProxy's messages are not consistent and tools parse them byte for byte.
type Style int

// Prefix styles.
const (
	// StyleParsing renders "parsing [FILE:LINE] : MSG".
	StyleParsing Style = iota
	// StyleParsingTight renders "parsing [FILE:LINE]: MSG".
	StyleParsingTight
	// StyleBracket renders "[FILE:LINE] : MSG".
	StyleBracket
	// StyleNone renders only MSG even when Pos is set.
	StyleNone
)

// Diagnostic is one message about a configuration. Fatal alerts make the
// configuration invalid; an Alert that is not Fatal is printed but tolerated,
// as HAProxy does for a few conditions.
type Diagnostic struct {
	Severity Severity
	Fatal    bool
	Pos      Pos
	Style    Style
	Msg      string
	// Detail lines are printed after Msg, each on its own line, verbatim.
	Detail []string
	// Hint is a gohap suggestion (modern form, closest keyword); it is not
	// part of HAProxy's text.
	Hint string
	// Truncated mirrors HAProxy printing a message cut at a NUL byte: no
	// line terminator follows it.
	Truncated bool
	// order breaks ties between diagnostics on the same line.
	order int
}

// Text renders the message with its HAProxy position prefix, without the
// "[ALERT] (pid) : config : " label.
func (d Diagnostic) Text() string {
	if d.Pos.Line == 0 || d.Style == StyleNone {
		return d.Msg
	}
	switch d.Style {
	case StyleParsingTight:
		return fmt.Sprintf("parsing [%s]: %s", d.Pos, d.Msg)
	case StyleBracket:
		return fmt.Sprintf("[%s] : %s", d.Pos, d.Msg)
	default:
		return fmt.Sprintf("parsing [%s] : %s", d.Pos, d.Msg)
	}
}

// Diagnostics is a list of Diagnostic in report order.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is fatal.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Fatal {
			return true
		}
	}
	return false
}

// Count returns how many diagnostics have severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Error implements error by joining the rendered messages.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.Severity.String())
		b.WriteString(": ")
		b.WriteString(d.Text())
	}
	return b.String()
}

func alertf(p Pos, format string, a ...any) Diagnostic {
	return Diagnostic{Severity: Alert, Fatal: true, Pos: p, Msg: fmt.Sprintf(format, a...)}
}

func warnf(p Pos, format string, a ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Pos: p, Msg: fmt.Sprintf(format, a...)}
}
