package logfmt

import (
	"errors"
	"fmt"
	"strings"
)

// Opt holds the LOG_OPT_* flags of a node (include/haproxy/log-t.h).
type Opt uint32

const (
	OptHexa        Opt = 0x01 // +X
	OptMandatory   Opt = 0x02 // +M: print "-" for an empty value
	OptQuote       Opt = 0x04 // +Q
	OptReqCap      Opt = 0x08 // sample fetch usable on the request
	OptResCap      Opt = 0x10 // sample fetch usable on the response
	OptHTTP        Opt = 0x20 // unique-id: samples are %-encoded
	OptEsc         Opt = 0x40 // +E: rfc5424 structured-data escaping
	OptMergeSpaces Opt = 0x80 // runs of spaces become one separator
)

// LogFormatFlags are the flags HAProxy passes for log-format,
// log-format-sd and error-log-format.
const LogFormatFlags = OptMandatory | OptMergeSpaces

// UniqueIDFlags are the flags HAProxy passes for unique-id-format.
const UniqueIDFlags = OptHTTP | OptMergeSpaces

// Kind tells what a Node is.
type Kind uint8

const (
	Text      Kind = iota // literal text
	Separator             // one space of a merged run (OptMergeSpaces)
	Variable              // %var or %{...}var
	Expr                  // %[sample expression]
)

// Node is one element of a parsed log-format string.
type Node struct {
	Kind Kind
	// Text is the literal text of a Text node.
	Text string
	// Var and Name identify a Variable node.
	Var  Var
	Name string
	// Arg is the raw text between "%{" and "}", if any.
	Arg string
	// Opts are the node's flags: the parse flags, then what %{...}o set,
	// then the node's own %{...} modifiers.
	Opts Opt
	// Expr is the sample expression text of an Expr node, without the
	// brackets.
	Expr string
	// Rest is the format text from the start of the expression to the end
	// of the string: HAProxy quotes it in sample error messages.
	Rest string
}

// Options controls Parse.
type Options struct {
	// HTTP is set when the proxy is in HTTP mode; HTTP-only variables are
	// rejected otherwise.
	HTTP bool
	// Flags are forced on every node (LogFormatFlags for log-format).
	Flags Opt
	// Sample, when set, parses the sample expression at the start of text
	// and returns the length it used, the way HAProxy's
	// sample_parse_expr() reports its end pointer. Its errors are wrapped
	// as "failed to parse sample expression <text> : err" unless they are
	// of type Verbatim. When nil, ScanExpr delimits the expression by its
	// syntax alone.
	Sample func(text string) (int, error)
	// Partial makes a failed parse return the nodes made before the
	// error, as parse_logformat_string leaves them in its list.
	Partial bool
}

// Verbatim is an error returned by an Options.Sample hook that Parse must
// report without the "failed to parse sample expression" wrapping (HAProxy
// reports capability problems that way).
type Verbatim string

func (v Verbatim) Error() string { return string(v) }

// Error is a log-format parse error. Its text is what HAProxy prints after
// "failed to parse log-format : " (or "log-format-sd", "unique-id",
// "error-log-format"); HAProxy's alert then ends with a '.'.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errf(format string, a ...any) error { return &Error{Msg: fmt.Sprintf(format, a...)} }

// Parse parses a log-format string for an HTTP proxy with the log-format
// flags.
func Parse(s string) ([]Node, error) {
	return ParseWith(s, Options{HTTP: true, Flags: LogFormatFlags})
}

// parser states, as the LF_* enum of log-t.h
const (
	lfInit = iota
	lfText
	lfSeparator
	lfVar
	lfStartVar
	lfStArg
	lfEdArg
	lfStExpr
	lfEdExpr
	lfEnd
)

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

// ParseWith parses s following parse_logformat_string() of HAProxy 2.6.
// The input is the argument as the configuration lexer returns it (quotes
// and backslashes already resolved). A NUL byte ends the string, as in C.
func ParseWith(s string, o Options) ([]Node, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	var (
		nodes      []Node
		sp         int // start of the current text
		arg        = -1
		argLen     int
		varStart   = -1
		varLen     int
		options    = o.Flags
		cformat    = lfInit
		pformat    int
		argNulAt   = -1 // where '}' was overwritten with NUL
		at         = func(i int) byte { return at0(s, i) }
		cstr       = func(i int) string { return cstring(s, i, argNulAt) }
		fmtForMsgs = s
	)
	partial := func(n []Node) []Node {
		if o.Partial {
			return n
		}
		return nil
	}
	for str := 0; cformat != lfEnd; str++ {
		pformat = cformat
		c := at(str)
		if c == 0 {
			cformat = lfEnd
		}
		switch pformat {
		case lfStartVar:
			arg, varStart = -1, -1
			argLen, varLen = 0, 0
			switch {
			case c == '{':
				cformat = lfStArg
				arg = str + 1
			case c == '[':
				cformat = lfStExpr
				varStart = str + 1
			case isAlpha(c):
				cformat = lfVar
				varStart = str
			case c == '%':
				cformat = lfText
			case isDigit(c) || c == ' ' || c == '\t':
				return partial(nodes), errf("unexpected variable name near '%c' at position %d line : '%s'. Maybe you want to write a single '%%', use the syntax '%%%%'", c, str, fmtForMsgs)
			default:
				cformat = lfInit
			}
		case lfStArg:
			if c == '}' {
				cformat = lfEdArg
				argLen = str - arg
				argNulAt = str
			}
		case lfEdArg:
			if c == '[' {
				cformat = lfStExpr
				varStart = str + 1
				break
			} else if isAlnum(c) {
				cformat = lfVar
				varStart = str
				break
			}
			return partial(nodes), errf("parse argument modifier without variable name near '%%{%s}'", s[arg:arg+argLen])
		case lfStExpr:
			n, err := addSample(s, varStart, arg, argLen, options, o, &nodes)
			if err != nil {
				return partial(nodes), err
			}
			str = varStart + n
			c = at(str)
			if c == ']' {
				cformat, pformat = lfEdExpr, lfEdExpr
				sp = str
			} else {
				if isPrint(c) {
					return partial(nodes), errf("expected ']' after '%s', but found '%c'", s[varStart:str], c)
				}
				return partial(nodes), errf("missing ']' after '%s'", s[varStart:str])
			}
		case lfVar:
			varLen = str - varStart
			if !isAlnum(c) {
				cformat = lfInit
			}
		default:
			cformat = lfInit
		}

		if cformat == lfInit {
			switch {
			case c == '%':
				cformat = lfStartVar
			case c == 0:
				cformat = lfEnd
			case c == ' ' && options&OptMergeSpaces != 0:
				cformat = lfSeparator
			default:
				cformat = lfText
			}
		}

		if cformat != pformat || pformat == lfSeparator {
			switch pformat {
			case lfVar:
				var a string
				if argLen > 0 {
					a = s[arg : arg+argLen]
				}
				if err := addVar(a, s[varStart:varStart+varLen], o.HTTP, &options, &nodes); err != nil {
					return partial(nodes), err
				}
			case lfText:
				nodes = append(nodes, Node{Kind: Text, Text: s[sp:str]})
			case lfSeparator:
				nodes = append(nodes, Node{Kind: Separator})
			}
			sp = str
		}
	}
	if pformat == lfStartVar || pformat == lfStArg || pformat == lfStExpr {
		what := "%"
		if varStart >= 0 {
			what = cstr(varStart)
		} else if arg >= 0 {
			what = cstr(arg)
		}
		return partial(nodes), errf("truncated line after '%s'", what)
	}
	return nodes, nil
}

func at0(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// cstring returns s from i up to the end or to the '}' HAProxy overwrote
// with a NUL, as a C "%s" of its working copy would print it.
func cstring(s string, i, nul int) string {
	if nul >= i && nul < len(s) {
		return s[i:nul]
	}
	return s[i:]
}

// parseVarArgs applies "+Q,-E,..." to opts exactly as
// parse_logformat_var_args(): a name counts only after a '+' or '-', the
// last sign before a name wins, unknown names are ignored.
func parseVarArgs(args string, opts Opt) Opt {
	sp := -1
	flags := 0
	for i := 0; ; i++ {
		c := at0(args, i)
		end := c == 0
		switch c {
		case '+':
			sp, flags = i+1, 1
		case '-':
			sp, flags = i+1, 2
		}
		if c == 0 || c == ',' {
			if sp >= 0 && sp <= i {
				if m, ok := varArgMask(args[sp:i]); ok {
					if flags == 1 {
						opts |= m
					} else if flags == 2 {
						opts &^= m
					}
				}
			}
			sp = -1
			if end {
				break
			}
		}
	}
	return opts
}

func varArgMask(name string) (Opt, bool) {
	switch name {
	case "M":
		return OptMandatory, true
	case "Q":
		return OptQuote, true
	case "X":
		return OptHexa, true
	case "E":
		return OptEsc, true
	}
	return 0, false
}

func addVar(arg, name string, http bool, defopts *Opt, nodes *[]Node) error {
	k, ok := Lookup(name)
	if !ok {
		return errf("no such format variable '%s'. If you wanted to emit the '%%' character verbatim, you need to use '%%%%'", name)
	}
	if k.HTTP && !http {
		return errf("format variable '%s' is reserved for HTTP mode", k.Name)
	}
	opts := *defopts
	if arg != "" {
		opts = parseVarArgs(arg, opts)
	}
	if k.Var == VarGlobal {
		*defopts = opts
		return nil
	}
	*nodes = append(*nodes, Node{Kind: Variable, Var: k.Var, Name: k.Name, Arg: arg, Opts: opts})
	return nil
}

func addSample(s string, start, arg, argLen int, options Opt, o Options, nodes *[]Node) (int, error) {
	text := s[start:]
	scan := o.Sample
	if scan == nil {
		scan = ScanExpr
	}
	n, err := scan(text)
	if err != nil {
		var v Verbatim
		if errors.As(err, &v) {
			return 0, &Error{Msg: string(v)}
		}
		return 0, errf("failed to parse sample expression <%s> : %s", text, err.Error())
	}
	if n < 0 || n > len(text) {
		n = len(text)
	}
	node := Node{Kind: Expr, Expr: text[:n], Rest: text, Opts: options}
	if argLen > 0 {
		node.Arg = s[arg : arg+argLen]
		node.Opts = parseVarArgs(node.Arg, node.Opts)
	}
	*nodes = append(*nodes, node)
	return n, nil
}

func isIDChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == ':'
}

// ScanExpr delimits a sample expression by syntax only, the way
// sample_parse_expr() walks it: a fetch keyword, an optional parenthesised
// argument list (with quotes and backslashes), then ",converter(args)"
// items. It cannot know which keywords exist; the caller's sample engine
// must still compile the text.
func ScanExpr(text string) (int, error) {
	i := 0
	for i < len(text) && isIDChar(text[i]) {
		i++
	}
	if i == 0 {
		return 0, errors.New("missing fetch method")
	}
	kw := text[:i]
	j, err := scanArgs(text, i)
	if err != nil {
		return 0, fmt.Errorf("fetch method '%s' : %v", kw, err)
	}
	i = j
	for {
		if i < len(text) && text[i] != ',' {
			return i, nil
		}
		for i < len(text) && text[i] == ',' {
			i++
		}
		if i >= len(text) {
			return i, nil
		}
		b := i
		for i < len(text) && isIDChar(text[i]) {
			i++
		}
		if i == b {
			return 0, fmt.Errorf("unknown converter '%s'", text[b:i])
		}
		ckw := text[b:i]
		j, err := scanArgs(text, i)
		if err != nil {
			return 0, fmt.Errorf("invalid arg 1 in converter '%s' : %v", ckw, err)
		}
		i = j
	}
}

// scanArgs skips "(...)" at i, honouring make_arg_list()'s quoting.
func scanArgs(text string, i int) (int, error) {
	if i >= len(text) || text[i] != '(' {
		return i, nil
	}
	i++
	squote, dquote := false, false
	for i < len(text) {
		c := text[i]
		switch {
		case c == '"' && !squote:
			dquote = !dquote
		case c == '\'' && !dquote:
			squote = !squote
		case c == '\\' && !squote && i+1 < len(text):
			i++
		case c == ')' && !squote && !dquote:
			return i + 1, nil
		}
		i++
	}
	return 0, errors.New("expected ')'")
}
