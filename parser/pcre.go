package parser

import (
	"fmt"
	"strings"
)

// PCREError is the error PCRE2 10.42 (HAProxy's regex engine) reports
// compiling pattern p with HAProxy's options: noCapture is
// PCRE2_NO_AUTO_CAPTURE (regex_comp without captures); caseless matching
// does not change what is refused. It returns HAProxy's text, "regex 'p'
// is invalid (error=..., erroffset=N)", or "" when PCRE2 compiles p or p
// uses a construct this check does not follow (conditions on an
// assertion or VERSION, alpha assertions, UTF mode), which HAProxy
// decides alone.
func PCREError(p string, noCapture bool) string {
	code, off := pcreCheck(p, noCapture)
	if code == 0 {
		return ""
	}
	return fmt.Sprintf("regex '%s' is invalid (error=%s, erroffset=%d)", p, pcreErrText(code), off)
}

// PCRE2's compile error numbers used here and their texts.
const (
	perrEndBackslash     = 1
	perrEndC             = 2
	perrUnknownEscape    = 3
	perrRangeOrder       = 4
	perrRepeatTooBig     = 5
	perrMissingBracket   = 6
	perrClassEscape      = 7
	perrClassRange       = 8
	perrQuantifier       = 9
	perrAfterQ           = 11
	perrPOSIXOutside     = 12
	perrCollating        = 13
	perrMissingParen     = 14
	perrNoSubpattern     = 15
	perrComment          = 18
	perrNested           = 19
	perrUnmatchedParen   = 22
	perrLookbehind       = 25
	perrRelZero          = 26
	perrDigitAfterQ      = 29
	perrPOSIXName        = 30
	perrCodePoint        = 34
	perrUnsupportedEsc   = 37
	perrAfterP           = 41
	perrNameSyntax       = 42
	perrDupName          = 43
	perrNameDigit        = 44
	perrMalformedProp    = 46
	perrUnknownProp      = 47
	perrNameTooLong      = 48
	perrInvalidRange     = 50
	perrOctal            = 51
	perrBraceO           = 55
	perrGEscape          = 57
	perrRParen           = 58
	perrGroupTooBig      = 61
	perrNameExpected     = 62
	perrNonOctal         = 64
	perrSameNumber       = 65
	perrNonHex           = 67
	perrCPrintable       = 68
	perrKEscape          = 69
	perrNInClass         = 71
	perrDigitsMissing    = 78
	perrNU               = 93
	perrHyphenInOption   = 94
	perrTooManyCaptures  = 97
	perrVerb             = 60
	perrMarkArg          = 66
	perrAlphaAssertion   = 95
	perrCalloutNumber    = 38
	perrCalloutParen     = 39
	perrCalloutEnd       = 81
	perrCalloutDelim     = 82
	perrCondParen        = 24
	perrCondBranches     = 27
	perrAssertExpected   = 28
	perrDefineBranches   = 54
	pcreMaxGroup         = 65535
	pcreMaxRepeat        = 65535
	pcreMaxNameSize      = 32
	pcreParensNestLimit  = 250
	pcreNamesCountLimit  = 10000
	pcreLookbehindTooBig = 87
)

var pcreTexts = map[int]string{
	perrEndBackslash:     `\ at end of pattern`,
	perrEndC:             `\c at end of pattern`,
	perrUnknownEscape:    `unrecognized character follows \`,
	perrRangeOrder:       "numbers out of order in {} quantifier",
	perrRepeatTooBig:     "number too big in {} quantifier",
	perrMissingBracket:   "missing terminating ] for character class",
	perrClassEscape:      "escape sequence is invalid in character class",
	perrClassRange:       "range out of order in character class",
	perrQuantifier:       "quantifier does not follow a repeatable item",
	perrAfterQ:           "unrecognized character after (? or (?-",
	perrPOSIXOutside:     "POSIX named classes are supported only within a class",
	perrCollating:        "POSIX collating elements are not supported",
	perrMissingParen:     "missing closing parenthesis",
	perrNoSubpattern:     "reference to non-existent subpattern",
	perrComment:          "missing ) after (?# comment",
	perrNested:           "parentheses are too deeply nested",
	perrUnmatchedParen:   "unmatched closing parenthesis",
	perrLookbehind:       "lookbehind assertion is not fixed length",
	perrRelZero:          "a relative value of zero is not allowed",
	perrDigitAfterQ:      "digit expected after (?+ or (?-",
	perrPOSIXName:        "unknown POSIX class name",
	perrCodePoint:        `character code point value in \x{} or \o{} is too large`,
	perrUnsupportedEsc:   `PCRE2 does not support \F, \L, \l, \N{name}, \U, or \u`,
	perrAfterP:           "unrecognized character after (?P",
	perrNameSyntax:       "syntax error in subpattern name (missing terminator?)",
	perrDupName:          "two named subpatterns have the same name (PCRE2_DUPNAMES not set)",
	perrNameDigit:        "subpattern name must start with a non-digit",
	perrMalformedProp:    `malformed \P or \p sequence`,
	perrUnknownProp:      `unknown property after \P or \p`,
	perrNameTooLong:      "subpattern name is too long (maximum 32 code units)",
	perrInvalidRange:     "invalid range in character class",
	perrOctal:            `octal value is greater than \377 in 8-bit non-UTF-8 mode`,
	perrBraceO:           `missing opening brace after \o`,
	perrGEscape:          `\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number`,
	perrRParen:           "(?R (recursive pattern call) must be followed by a closing parenthesis",
	perrGroupTooBig:      "subpattern number is too big",
	perrNameExpected:     "subpattern name expected",
	perrNonOctal:         `non-octal character in \o{} (closing brace missing?)`,
	perrSameNumber:       "different names for subpatterns of the same number are not allowed",
	perrNonHex:           `non-hex character in \x{} (closing brace missing?)`,
	perrCPrintable:       `\c must be followed by a printable ASCII character`,
	perrKEscape:          `\k is not followed by a braced, angle-bracketed, or quoted name`,
	perrNInClass:         `\N is not supported in a class`,
	perrDigitsMissing:    `digits missing in \x{} or \o{} or \N{U+}`,
	perrNU:               `\N{U+dddd} is supported only in Unicode (UTF) mode`,
	perrHyphenInOption:   "invalid hyphen in option setting",
	perrTooManyCaptures:  "too many capturing groups (maximum 65535)",
	perrVerb:             "(*VERB) not recognized or malformed",
	perrMarkArg:          "(*MARK) must have an argument",
	perrAlphaAssertion:   "(*alpha_assertion) not recognized",
	perrCalloutNumber:    "number after (?C is greater than 255",
	perrCalloutParen:     "closing parenthesis for (?C expected",
	perrCalloutEnd:       "missing terminating delimiter for callout with string argument",
	perrCalloutDelim:     "unrecognized string delimiter follows (?C",
	perrCondParen:        "missing closing parenthesis for condition",
	perrCondBranches:     "conditional subpattern contains more than two branches",
	perrAssertExpected:   "assertion expected after (?( or (?(?C)",
	perrDefineBranches:   "DEFINE subpattern contains more than one branch",
	pcreLookbehindTooBig: "lookbehind assertion is too long",
}

func pcreErrText(code int) string { return pcreTexts[code] }

// Escapes check_escape returns (ESC_* in PCRE2, same order).
const (
	escNone = iota
	escA
	escG
	escK
	escB
	escb
	escD
	escd
	escS
	escs
	escW
	escw
	escN
	escDum
	escC
	escP
	escp
	escR
	escH
	esch
	escV
	escv
	escX
	escZ
	escz
	escE
	escQ
	escg
	esck
)

// pcreEscapes maps the letter after a backslash to its escape; 0 is
// "handled in code", -1 a literal whose value the validation ignores.
var pcreEscapes = map[byte]int{
	'A': escA, 'B': escB, 'C': escC, 'D': escD, 'E': escE, 'G': escG, 'H': escH,
	'K': escK, 'N': escN, 'P': escP, 'Q': escQ, 'R': escR, 'S': escS, 'V': escV,
	'W': escW, 'X': escX, 'Z': escZ, 'b': escb, 'd': escd, 'h': esch, 'k': esck,
	'p': escp, 's': escs, 'v': escv, 'w': escw, 'z': escz,
}

var pcreLiteralEscapes = map[byte]byte{'a': 7, 'e': 27, 'f': 12, 'n': 10, 'r': 13, 't': 9}

// Items of the parsed pattern that matter to the checks after parsing.
const (
	piLit = iota // one character
	piZero
	piVar // \R, \X: never a fixed length
	piQuant
	piOpen       // group, lookahead: n is its capture number or 0
	piLookahead  // contributes no length
	piLookbehind // off is its '('
	piAlt
	piKet
	piBackref
	piBackrefName
	piRecurse
	piRecurseName
	piCondNumber // (?(n): n the group, off its error offset
	piCondName   // (?(name), (?(R&name), (?(Rdigits): m its condKind
)

// What a conditional group's piOpen holds in m.
const (
	condGroup  = 1 // a conditional group: at most two branches
	condDefine = 2 // (?(DEFINE): one branch
)

// What a piCondName holds in m: the name of a group, (?(R&name), or
// (?(Rdigits), which is a recursion test when no group has the name.
const (
	condName = iota + 1
	condRName
	condRNum
)

type pcreItem struct {
	kind uint8
	n, m int
	off  int
	name string
}

type pcreNest struct {
	depth                 int
	noCapture, ext, extra bool
	dupnames              bool
	reset                 bool
	resetGroup, maxGroup  int
}

type pcreName struct {
	name string
	num  int
}

type pcreParser struct {
	p         string
	ptr       int
	noCapture bool
	ext       bool // PCRE2_EXTENDED
	extra     bool // PCRE2_EXTENDED_MORE
	dupnames  bool
	bracount  int
	names     []pcreName
	items     []pcreItem
	unknown   bool
	smallRef  [10]int
	// expectCond is PCRE2's expect_cond_assert: 2 after "(?(?" or
	// "(?(*", decremented by a callout; prevExpect its value for the
	// current item. hasCond is set once the pattern has a condition.
	expectCond, prevExpect int
	hasCond                bool
	// condAsserts are the depths of the open assertions that are a
	// condition.
	condAsserts []int
}

// condAssertAt notes that the assertion just opened at depth is a
// condition's, when one was expected.
func (ps *pcreParser) condAssertAt(depth int) {
	if ps.prevExpect > 0 {
		ps.condAsserts = append(ps.condAsserts, depth)
	}
}

func pcreCheck(p string, noCapture bool) (int, int) {
	ps := &pcreParser{p: p, noCapture: noCapture}
	for i := range ps.smallRef {
		ps.smallRef[i] = -1
	}
	code := ps.startOptions()
	if code == 0 && !ps.unknown {
		code = ps.parse()
	}
	if ps.unknown {
		return 0, 0
	}
	if code != 0 {
		return code, ps.ptr
	}
	if ps.hasCond {
		// How a condition counts in a lookbehind's length is not
		// followed here.
		for _, it := range ps.items {
			if it.kind == piLookbehind {
				return 0, 0
			}
		}
	}
	code, off := ps.checkLookbehinds()
	switch {
	case ps.unknown:
		return 0, 0
	case code != 0:
		return code, off
	}
	if code, off = ps.checkRefs(); code != 0 || !ps.hasCond {
		return code, off
	}
	return ps.checkBranches()
}

// pcreStartOptions are the items pcre2_compile reads at the start of a
// pattern (pso_list), with their closing parenthesis or their '='.
var pcreStartOptions = []string{"UTF8)", "UTF)", "UCP)", "NOTEMPTY)", "NOTEMPTY_ATSTART)", "NO_AUTO_POSSESS)",
	"NO_DOTSTAR_ANCHOR)", "NO_JIT)", "NO_START_OPT)", "LIMIT_HEAP=", "LIMIT_MATCH=", "LIMIT_DEPTH=",
	"LIMIT_RECURSION=", "CR)", "LF)", "CRLF)", "ANY)", "NUL)", "ANYCRLF)", "BSR_ANYCRLF)", "BSR_UNICODE)"}

// startOptions skips the start-of-pattern items as pcre2_compile does
// before parsing; a limit needs digits and its parenthesis. UTF and UCP
// change what parses, which this check leaves to HAProxy.
func (ps *pcreParser) startOptions() int {
	p := ps.p
	for strings.HasPrefix(p[ps.ptr:], "(*") {
		name := ""
		for _, o := range pcreStartOptions {
			if strings.HasPrefix(p[ps.ptr+2:], o) {
				name = o
				break
			}
		}
		if name == "" {
			return 0
		}
		ps.ptr += 2 + len(name)
		switch name {
		case "UTF8)", "UTF)", "UCP)":
			ps.unknown = true
			return 0
		case "LIMIT_HEAP=", "LIMIT_MATCH=", "LIMIT_DEPTH=", "LIMIT_RECURSION=":
			pp := ps.ptr
			if pp >= len(p) || !isDigit(p[pp]) {
				return perrVerb
			}
			// The value stops being read where it would pass 32 bits.
			for c := uint32(0); pp < len(p) && isDigit(p[pp]) && c <= 1<<32/10-2; pp++ {
				c = c*10 + uint32(p[pp]-'0')
			}
			if ps.ptr = pp + 1; pp >= len(p) || p[pp] != ')' {
				return perrVerb
			}
		}
	}
	return 0
}

// pcreVerbs are the backtracking verbs and whether their argument is
// required (the empty name is (*:NAME), a mark).
var pcreVerbs = map[string]bool{"": true, "MARK": true, "ACCEPT": false, "F": false, "FAIL": false,
	"COMMIT": false, "PRUNE": false, "SKIP": false, "THEN": false}

// pcreAlphaAssertions are the (*name: ...) groups.
var pcreAlphaAssertions = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`pla plb nla nlb positive_lookahead positive_lookbehind negative_lookahead
		negative_lookbehind atomic sr asr script_run atomic_script_run napla naplb
		non_atomic_positive_lookahead non_atomic_positive_lookbehind`) {
		m[n] = true
	}
	return m
}()

// verb reads a verb or an alpha assertion after "(*" as parse_regex
// does; quantifiable is set for (*ACCEPT), which may be repeated.
func (ps *pcreParser) verb() (quantifiable bool, code int) {
	p := ps.p
	start := ps.ptr
	for ps.ptr < len(p) && isWordByte(p[ps.ptr]) {
		ps.ptr++
	}
	name := p[start:ps.ptr]
	if len(name) > pcreMaxNameSize {
		return false, perrNameTooLong
	}
	if name != "" && name[0] >= 'a' && name[0] <= 'z' {
		if ps.ptr < len(p) && p[ps.ptr] == ':' && pcreAlphaAssertions[name] {
			ps.unknown = true
			return false, 0
		}
		return false, perrAlphaAssertion
	}
	if ps.ptr >= len(p) || p[ps.ptr] != ':' && p[ps.ptr] != ')' {
		return false, perrVerb
	}
	required, ok := pcreVerbs[name]
	if !ok {
		return false, perrVerb
	}
	// An empty argument is no argument.
	if p[ps.ptr] == ':' && ps.ptr+1 < len(p) && p[ps.ptr+1] == ')' {
		ps.ptr++
	}
	if required && p[ps.ptr] != ':' {
		return false, perrMarkArg
	}
	if p[ps.ptr] == ':' {
		i := strings.IndexByte(p[ps.ptr:], ')')
		if i < 0 {
			ps.ptr = len(p)
			return false, perrVerb
		}
		ps.ptr += i
	}
	ps.ptr++
	return name == "ACCEPT", 0
}

// callout reads a callout at the 'C' of "(?C": nothing, a number up to
// 255 or a delimited string (a doubled end delimiter stands for itself),
// then its closing parenthesis.
func (ps *pcreParser) callout() int {
	p := ps.p
	ps.expectCond = ps.prevExpect - 1
	ps.ptr++
	if ps.ptr >= len(p) {
		return perrMissingParen
	}
	switch c := p[ps.ptr]; {
	case c == ')':
	case isDigit(c):
		for n := 0; ps.ptr < len(p) && isDigit(p[ps.ptr]); ps.ptr++ {
			if n = n*10 + int(p[ps.ptr]-'0'); n > 255 {
				ps.ptr++
				return perrCalloutNumber
			}
		}
	default:
		i := strings.IndexByte("`'\"^%#${", c)
		if i < 0 {
			return perrCalloutDelim
		}
		end := "`'\"^%#$}"[i]
		start := ps.ptr
		for ps.ptr++; ; ps.ptr++ {
			if ps.ptr >= len(p) {
				ps.ptr = start
				return perrCalloutEnd
			}
			if p[ps.ptr] == end {
				if ps.ptr+1 < len(p) && p[ps.ptr+1] == end {
					ps.ptr++
					continue
				}
				ps.ptr++
				break
			}
		}
	}
	if ps.ptr >= len(p) || p[ps.ptr] != ')' {
		return perrCalloutParen
	}
	ps.ptr++
	return 0
}

// condAssertNext says the item starting with c (ps.ptr after it) is what
// a condition needs: an assertion, or a callout before one.
func (ps *pcreParser) condAssertNext(c byte) bool {
	p := ps.p
	if c != '(' || len(p)-ps.ptr < 3 || p[ps.ptr] != '?' && p[ps.ptr] != '*' {
		return false
	}
	if p[ps.ptr] == '*' {
		return p[ps.ptr+1] >= 'a' && p[ps.ptr+1] <= 'z'
	}
	switch p[ps.ptr+1] {
	case 'C':
		return ps.expectCond == 2
	case '=', '!':
		return true
	case '<':
		return p[ps.ptr+2] == '=' || p[ps.ptr+2] == '!'
	}
	return false
}

// condition reads the condition of "(?(" as parse_regex does, ps.ptr at
// its '(', and opens the conditional group. Its references are checked
// with the others once the pattern is read (checkRefs), its branches when
// it is compiled (checkBranches). VERSION conditions are HAProxy's to
// decide.
func (ps *pcreParser) condition() int {
	p := ps.p
	if ps.ptr++; ps.ptr >= len(p) {
		return perrMissingParen
	}
	ps.hasCond = true
	if c := p[ps.ptr]; c == '?' || c == '*' {
		// An assertion follows: the group's branch error has no offset
		// this check can tell.
		ps.ptr--
		ps.expectCond = 2
		ps.add(pcreItem{kind: piOpen, m: condGroup, off: -1})
		return 0
	}
	n, ok, err := ps.readNumber(&ps.ptr, ps.bracount, pcreMaxGroup, perrGroupTooBig)
	switch {
	case ok:
		if n <= 0 {
			return perrNoSubpattern
		}
		ps.add(pcreItem{kind: piOpen, m: condGroup, off: ps.ptr - 4})
		ps.add(pcreItem{kind: piCondNumber, n: n, off: ps.ptr - 2})
	case err != 0:
		return err
	case strings.HasPrefix(p[ps.ptr:], "VERSION") && len(p)-ps.ptr >= 10 && p[ps.ptr+7] != ')':
		ps.unknown = true
		return 0
	default:
		kind, term := condName, byte(')')
		switch {
		case p[ps.ptr] == 'R' && ps.ptr+1 < len(p) && p[ps.ptr+1] == '&':
			kind = condRName
			ps.ptr++
		case p[ps.ptr] == '<':
			term = '>'
		case p[ps.ptr] == '\'':
			term = '\''
		default:
			ps.ptr--
		}
		name, off, err := ps.readName(term)
		if err != 0 {
			return err
		}
		if term == ')' {
			ps.ptr--
		}
		switch {
		case kind == condName && term == ')' && name == "DEFINE":
			ps.add(pcreItem{kind: piOpen, m: condDefine, off: off})
			break
		case kind == condName && term == ')' && name[0] == 'R' && strings.Trim(name[1:], "0123456789") == "":
			kind = condRNum
			fallthrough
		default:
			ps.add(pcreItem{kind: piOpen, m: condGroup, off: off})
			ps.add(pcreItem{kind: piCondName, m: kind, name: name, off: off})
		}
	}
	if ps.ptr >= len(p) || p[ps.ptr] != ')' {
		return perrCondParen
	}
	ps.ptr++
	return 0
}

// checkBranches is compile_branch's count of a conditional group's
// branches, in the order the groups close.
func (ps *pcreParser) checkBranches() (int, int) {
	type open struct{ m, off, alts int }
	var stack []open
	for _, it := range ps.items {
		switch it.kind {
		case piOpen, piLookahead, piLookbehind:
			m, off := 0, 0
			if it.kind == piOpen {
				m, off = it.m, it.off
			}
			stack = append(stack, open{m: m, off: off})
		case piAlt:
			if n := len(stack); n > 0 {
				stack[n-1].alts++
			}
		case piKet:
			n := len(stack)
			if n == 0 {
				continue
			}
			g := stack[n-1]
			stack = stack[:n-1]
			code := 0
			switch {
			case g.m == condDefine && g.alts > 0:
				code = perrDefineBranches
			case g.m == condGroup && g.alts > 1:
				code = perrCondBranches
			}
			if code != 0 {
				if g.off < 0 {
					ps.unknown = true
					return 0, 0
				}
				return code, g.off
			}
		}
	}
	return 0, 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isPCRESpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// pcreHex and pcreOctal are a digit's value, -1 for another character.
func pcreHex(c byte) int {
	if isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') {
		return int(hexVal(c))
	}
	return -1
}

func pcreOctal(c byte) int {
	if c >= '0' && c <= '7' {
		return int(c - '0')
	}
	return -1
}

// bracedCode reads the digits of \o{...} or \x{...} after the brace: a
// code above 0xff, no digit, or no closing brace is refused.
func (ps *pcreParser) bracedCode(digit func(byte) int, shift uint, unclosed int) (int, int, int) {
	p := ps.p
	if ps.ptr >= len(p) || p[ps.ptr] == '}' {
		return 0, 0, perrDigitsMissing
	}
	v := 0
	for ps.ptr < len(p) && digit(p[ps.ptr]) >= 0 {
		d := digit(p[ps.ptr])
		ps.ptr++
		if v == 0 && d == 0 {
			continue
		}
		if v = v<<shift | d; v > 0xff {
			for ps.ptr < len(p) && digit(p[ps.ptr]) >= 0 {
				ps.ptr++
			}
			return 0, 0, perrCodePoint
		}
	}
	if ps.ptr < len(p) && p[ps.ptr] == '}' {
		ps.ptr++
		return 0, v, 0
	}
	if ps.ptr >= len(p) {
		ps.ptr--
	}
	return 0, 0, unclosed
}

// readNumber is read_number: allowSign < 0 refuses a sign, otherwise it
// is the count of groups a relative number is taken from.
func (ps *pcreParser) readNumber(at *int, allowSign, max, maxErr int) (int, bool, int) {
	p, ptr := ps.p, *at
	sign := 0
	if allowSign >= 0 && ptr < len(p) {
		if p[ptr] == '+' {
			sign = 1
			max -= allowSign
			ptr++
		} else if p[ptr] == '-' {
			sign = -1
			ptr++
		}
	}
	if ptr >= len(p) || !isDigit(p[ptr]) {
		return 0, false, 0
	}
	n := 0
	for ptr < len(p) && isDigit(p[ptr]) {
		n = n*10 + int(p[ptr]-'0')
		ptr++
		if n > max {
			*at = ptr
			return n, false, maxErr
		}
	}
	if allowSign >= 0 && sign != 0 {
		if n == 0 {
			*at = ptr
			return n, false, perrRelZero
		}
		if sign > 0 {
			n += allowSign
		} else if n > allowSign {
			*at = ptr
			return n, false, perrNoSubpattern
		} else {
			n = allowSign + 1 - n
		}
	}
	*at = ptr
	return n, true, 0
}

// readRepeatCounts is read_repeat_counts, at the character after '{'.
func (ps *pcreParser) readRepeatCounts(at *int) (int, int, bool, int) {
	p := ps.p
	comma := false
	for q := *at; ; q++ {
		if q >= len(p) {
			return 0, 0, false, 0
		}
		c := p[q]
		if isDigit(c) {
			continue
		}
		if c == '}' {
			break
		}
		if c != ',' || comma {
			return 0, 0, false, 0
		}
		comma = true
	}
	q := *at
	min, ok, err := ps.readNumber(&q, -1, pcreMaxRepeat, perrRepeatTooBig)
	if !ok {
		*at = q
		return 0, 0, false, err
	}
	max := min
	if p[q] == '}' {
		q++
	} else {
		q++
		if p[q] != '}' {
			var err int
			max, ok, err = ps.readNumber(&q, -1, pcreMaxRepeat, perrRepeatTooBig)
			if !ok {
				*at = q
				return 0, 0, false, err
			}
			if max < min {
				*at = q
				return 0, 0, false, perrRangeOrder
			}
		} else {
			max = -1
		}
		q++
	}
	*at = q
	return min, max, true, 0
}

// checkEscape is check_escape at the character after a backslash: the
// escape (0 for a data character, negative for a back reference), the
// character and an error code; ps.ptr moves past the sequence.
func (ps *pcreParser) checkEscape(isClass bool) (int, int, int) {
	p := ps.p
	if ps.ptr >= len(p) {
		return 0, 0, perrEndBackslash
	}
	c := p[ps.ptr]
	ps.ptr++
	if c < '0' || c > 'z' {
		return 0, int(c), 0
	}
	if v, ok := pcreLiteralEscapes[c]; ok {
		return 0, int(v), 0
	}
	if e, ok := pcreEscapes[c]; ok {
		if e == escN && ps.ptr < len(p) && p[ps.ptr] == '{' {
			q := ps.ptr + 1
			if len(p)-q > 1 && p[q] == 'U' && p[q+1] == '+' {
				return e, 0, perrNU
			}
			if _, _, ok, err := ps.readRepeatCounts(&q); !ok {
				if err == 0 {
					err = perrUnsupportedEsc
				}
				return e, 0, err
			}
		}
		return e, 0, 0
	}
	if !isWordByte(c) || c == '_' {
		return 0, int(c), 0
	}
	switch c {
	case 'F', 'l', 'L', 'u', 'U':
		return 0, 0, perrUnsupportedEsc
	case 'g':
		if isClass {
			return 0, 'g', 0
		}
		if ps.ptr >= len(p) {
			return 0, 0, perrGEscape
		}
		if p[ps.ptr] == '<' || p[ps.ptr] == '\'' {
			return escg, 0, 0
		}
		var s int
		if p[ps.ptr] == '{' {
			q := ps.ptr + 1
			n, ok, err := ps.readNumber(&q, ps.bracount, pcreMaxGroup, perrGroupTooBig)
			if !ok {
				if err == 0 {
					return esck, 0, 0
				}
				return 0, 0, err
			}
			if q >= len(p) || p[q] != '}' {
				return 0, 0, perrGEscape
			}
			ps.ptr = q + 1
			s = n
		} else {
			n, ok, err := ps.readNumber(&ps.ptr, ps.bracount, pcreMaxGroup, perrGroupTooBig)
			if !ok {
				if err == 0 {
					err = perrGEscape
				}
				return 0, 0, err
			}
			s = n
		}
		if s <= 0 {
			return 0, 0, perrNoSubpattern
		}
		return -s, 0, 0
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !isClass {
			old := ps.ptr
			q := ps.ptr - 1
			s, ok, _ := ps.readNumber(&q, -1, (1<<31-1)/10-1, 0)
			if ok && (s < 10 || p[old-1] >= '8' || s <= ps.bracount) {
				ps.ptr = q
				if s > pcreMaxGroup {
					return 0, 0, perrGroupTooBig
				}
				return -s, 0, 0
			}
			ps.ptr = old
		}
		if c >= '8' {
			return 0, int(c), 0
		}
		fallthrough
	case '0':
		v := int(c - '0')
		for i := 0; i < 2 && ps.ptr < len(p) && p[ps.ptr] >= '0' && p[ps.ptr] <= '7'; i++ {
			v = v*8 + int(p[ps.ptr]-'0')
			ps.ptr++
		}
		if v > 0xff {
			return 0, 0, perrOctal
		}
		return 0, v, 0
	case 'o':
		if ps.ptr >= len(p) {
			ps.ptr--
			return 0, 0, perrBraceO
		}
		if p[ps.ptr] != '{' {
			return 0, 0, perrBraceO
		}
		ps.ptr++
		return ps.bracedCode(pcreOctal, 3, perrNonOctal)
	case 'x':
		if ps.ptr < len(p) && p[ps.ptr] == '{' {
			ps.ptr++
			return ps.bracedCode(pcreHex, 4, perrNonHex)
		}
		v := 0
		for i := 0; i < 2 && ps.ptr < len(p) && pcreHex(p[ps.ptr]) >= 0; i++ {
			v = v<<4 | pcreHex(p[ps.ptr])
			ps.ptr++
		}
		return 0, v, 0
	case 'c':
		if ps.ptr >= len(p) {
			return 0, 0, perrEndC
		}
		ch := p[ps.ptr]
		if ch >= 'a' && ch <= 'z' {
			ch -= 32
		}
		if ch < 32 || ch > 126 {
			return 0, 0, perrCPrintable
		}
		ps.ptr++
		return 0, int(ch ^ 0x40), 0
	}
	ps.ptr--
	return 0, 0, perrUnknownEscape
}

// getUCP is get_ucp after \p or \P.
func (ps *pcreParser) getUCP() int {
	p := ps.p
	if ps.ptr >= len(p) {
		return perrMalformedProp
	}
	c := p[ps.ptr]
	ps.ptr++
	var name []byte
	colon := -1
	if c == '{' {
		if ps.ptr >= len(p) {
			return perrMalformedProp
		}
		if p[ps.ptr] == '^' {
			ps.ptr++
		}
		closed := false
		for i := 0; i < 49; i++ {
			if ps.ptr >= len(p) {
				return perrMalformedProp
			}
			c = p[ps.ptr]
			ps.ptr++
			for c == '_' || c == '-' || isPCRESpace(c) {
				if ps.ptr >= len(p) {
					return perrMalformedProp
				}
				c = p[ps.ptr]
				ps.ptr++
			}
			if c == 0 {
				return perrMalformedProp
			}
			if c == '}' {
				closed = true
				break
			}
			if (c == ':' || c == '=') && colon < 0 {
				colon = len(name)
			}
			name = append(name, lower(c))
		}
		if !closed {
			return perrMalformedProp
		}
	} else if c|0x20 >= 'a' && c|0x20 <= 'z' {
		name = append(name, lower(c))
	} else {
		return perrMalformedProp
	}
	n := string(name)
	script := false
	if colon >= 0 {
		kind, val := n[:colon], n[colon+1:]
		switch kind {
		case "bidiclass", "bc":
			n = "bidi" + val
		case "script", "sc", "scriptextensions", "scx":
			n, script = val, true
		default:
			return perrUnknownProp
		}
	}
	if pcreScripts[n] || (!script && pcreProperties[n]) {
		return 0
	}
	return perrUnknownProp
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// readName is read_name for a group name, ps.ptr at the character before
// the name; it returns the name and its offset.
func (ps *pcreParser) readName(term byte) (string, int, int) {
	p := ps.p
	ps.ptr++
	if ps.ptr >= len(p) {
		return "", 0, perrNameExpected
	}
	start := ps.ptr
	if isDigit(p[ps.ptr]) {
		return "", 0, perrNameDigit
	}
	for ps.ptr < len(p) && isWordByte(p[ps.ptr]) {
		ps.ptr++
	}
	if ps.ptr > start+pcreMaxNameSize {
		return "", 0, perrNameTooLong
	}
	if ps.ptr == start {
		return "", 0, perrNameExpected
	}
	if ps.ptr >= len(p) || p[ps.ptr] != term {
		return "", 0, perrNameSyntax
	}
	ps.ptr++
	return p[start : ps.ptr-1], start, 0
}

// checkPOSIXSyntax is check_posix_syntax at the character after '['.
func (ps *pcreParser) checkPOSIXSyntax(at int) (int, bool) {
	p := ps.p
	term := p[at]
	for q := at + 1; len(p)-q >= 2; q++ {
		switch {
		case p[q] == '\\' && (p[q+1] == ']' || p[q+1] == '\\'):
			q++
		case (p[q] == '[' && p[q+1] == term) || p[q] == ']':
			return 0, false
		case p[q] == term && p[q+1] == ']':
			return q, true
		}
	}
	return 0, false
}

var pcrePOSIXNames = map[string]bool{"alpha": true, "lower": true, "upper": true, "alnum": true,
	"ascii": true, "blank": true, "cntrl": true, "digit": true, "graph": true, "print": true,
	"punct": true, "space": true, "word": true, "xdigit": true}

func (ps *pcreParser) add(it pcreItem) { ps.items = append(ps.items, it) }

// parse is parse_regex; on error ps.ptr is the error offset.
func (ps *pcreParser) parse() int {
	p := ps.p
	end := len(p)
	var nests []pcreNest
	depth := 0
	inescq := false
	okq, metaq := false, false
	for ps.ptr < end {
		if depth > pcreParensNestLimit {
			return perrNested
		}
		c := p[ps.ptr]
		ps.ptr++
		if inescq {
			if c == '\\' && ps.ptr < end && p[ps.ptr] == 'E' {
				inescq = false
				ps.ptr++
			} else {
				if ps.expectCond > 0 {
					// A literal where a condition's assertion is expected.
					ps.ptr--
					return perrAssertExpected
				}
				ps.add(pcreItem{kind: piLit})
				okq, metaq = true, false
			}
			continue
		}
		if c == '\\' && ps.ptr < end && (p[ps.ptr] == 'Q' || p[ps.ptr] == 'E') {
			inescq = p[ps.ptr] == 'Q'
			ps.ptr++
			continue
		}
		if ps.ext {
			if isPCRESpace(c) {
				continue
			}
			if c == '#' {
				for ps.ptr < end {
					ps.ptr++
					if p[ps.ptr-1] == '\n' {
						break
					}
				}
				continue
			}
		}
		if c == '(' && end-ps.ptr >= 2 && p[ps.ptr] == '?' && p[ps.ptr+1] == '#' {
			ps.ptr++
			for ps.ptr++; ps.ptr < end && p[ps.ptr] != ')'; ps.ptr++ {
			}
			if ps.ptr >= end {
				return perrComment
			}
			ps.ptr++
			continue
		}
		if ps.expectCond > 0 && !ps.condAssertNext(c) {
			ps.ptr--
			return perrAssertExpected
		}
		ps.prevExpect, ps.expectCond = ps.expectCond, 0
		prevOK, prevMeta := okq, metaq
		okq, metaq = false, false
		if prevMeta && (c == '?' || c == '+') {
			continue
		}
		switch c {
		default:
			ps.add(pcreItem{kind: piLit})
			okq = true
		case '\\':
			esc, _, err := ps.checkEscape(false)
			if err != 0 {
				return err
			}
			switch {
			case esc == 0:
				ps.add(pcreItem{kind: piLit})
				okq = true
			case esc < 0:
				off := ps.ptr - 1
				n := -esc
				if n < 10 {
					if ps.smallRef[n] < 0 {
						ps.smallRef[n] = off
					}
					off = ps.smallRef[n]
				}
				ps.add(pcreItem{kind: piBackref, n: n, off: off})
				okq = true
			case esc == escR || esc == escX:
				ps.add(pcreItem{kind: piVar})
				okq = true
			case esc == escC || esc == escH || esc == esch || esc == escN || esc == escV || esc == escv ||
				esc == escd || esc == escD || esc == escs || esc == escS || esc == escw || esc == escW:
				ps.add(pcreItem{kind: piLit})
				okq = true
			case esc == escP || esc == escp:
				if err := ps.getUCP(); err != 0 {
					return err
				}
				ps.add(pcreItem{kind: piLit})
				okq = true
			case esc == escg || esc == esck:
				if ps.ptr >= end || (p[ps.ptr] != '{' && p[ps.ptr] != '<' && p[ps.ptr] != '\'') {
					if esc == escg {
						return perrGEscape
					}
					return perrKEscape
				}
				term := byte('}')
				if p[ps.ptr] == '<' {
					term = '>'
				} else if p[ps.ptr] == '\'' {
					term = '\''
				}
				if esc == escg && term != '}' {
					q := ps.ptr + 1
					n, ok, err := ps.readNumber(&q, ps.bracount, pcreMaxGroup, perrGroupTooBig)
					if ok {
						if q >= end || p[q] != term {
							return perrGEscape
						}
						ps.ptr = q
						ps.add(pcreItem{kind: piRecurse, n: n, off: ps.ptr})
						ps.ptr++
						okq = true
						break
					}
					if err != 0 {
						ps.ptr = q
						return err
					}
				}
				name, off, err := ps.readName(term)
				if err != 0 {
					return err
				}
				kind := uint8(piRecurseName)
				if esc == esck || term == '}' {
					kind = piBackrefName
				}
				ps.add(pcreItem{kind: kind, name: name, off: off})
				okq = true
			default: // \A \B \b \G \K \Z \z
				ps.add(pcreItem{kind: piZero})
			}
		case '^', '$':
			ps.add(pcreItem{kind: piZero})
		case '.':
			ps.add(pcreItem{kind: piLit})
			okq = true
		case '*', '+', '?':
			if !prevOK {
				ps.ptr--
				return perrQuantifier
			}
			metaq = true
			q := pcreItem{kind: piQuant, m: -1}
			if c == '+' {
				q.n = 1
			} else if c == '?' {
				q.m = 1
			}
			ps.add(q)
		case '{':
			min, max, ok, err := ps.readRepeatCounts(&ps.ptr)
			if !ok {
				if err != 0 {
					return err
				}
				ps.add(pcreItem{kind: piLit})
				okq = true
				break
			}
			if !prevOK {
				ps.ptr--
				return perrQuantifier
			}
			metaq = true
			ps.add(pcreItem{kind: piQuant, n: min, m: max})
		case '[':
			if err := ps.parseClass(&inescq); err != 0 {
				return err
			}
			if ps.unknown {
				return 0
			}
			okq = true
		case '(':
			if ps.ptr >= end {
				return perrMissingParen
			}
			if p[ps.ptr] != '?' {
				if p[ps.ptr] != '*' {
					depth++
					n := 0
					if !ps.noCapture {
						if ps.bracount >= pcreMaxGroup {
							return perrTooManyCaptures
						}
						ps.bracount++
						n = ps.bracount
					}
					ps.add(pcreItem{kind: piOpen, n: n})
					break
				}
				if end-ps.ptr <= 1 || p[ps.ptr+1] == ')' {
					break
				}
				ps.ptr++
				q, err := ps.verb()
				if err != 0 || ps.unknown {
					return err
				}
				okq = q
				break
			}
			ps.ptr++
			if ps.ptr >= end {
				return perrMissingParen
			}
			switch p[ps.ptr] {
			default:
				if p[ps.ptr] == '-' && end-ps.ptr > 1 && isDigit(p[ps.ptr+1]) {
					if err := ps.recursionByNumber(); err != 0 {
						return err
					}
					okq = true
					break
				}
				depth++
				nests = append(nests, pcreNest{depth: depth, noCapture: ps.noCapture, ext: ps.ext, extra: ps.extra, dupnames: ps.dupnames})
				top := &nests[len(nests)-1]
				if p[ps.ptr] == '|' {
					top.reset, top.resetGroup, top.maxGroup = true, ps.bracount, ps.bracount
					ps.add(pcreItem{kind: piOpen})
					ps.ptr++
					break
				}
				hyphenOK := true
				type opts struct{ i, n, x, xx, j bool }
				var set, unset opts
				cur := &set
				if ps.ptr < end && p[ps.ptr] == '^' {
					ps.noCapture, ps.ext, ps.extra = false, false, false
					hyphenOK = false
					ps.ptr++
				}
				for ps.ptr < end && p[ps.ptr] != ')' && p[ps.ptr] != ':' {
					ch := p[ps.ptr]
					ps.ptr++
					switch ch {
					case '-':
						if !hyphenOK {
							ps.ptr--
							return perrHyphenInOption
						}
						cur, hyphenOK = &unset, false
					case 'J':
						cur.j = true
					case 'i', 'm', 's', 'U':
					case 'n':
						cur.n = true
					case 'x':
						cur.x = true
						if ps.ptr < end && p[ps.ptr] == 'x' {
							cur.xx = true
							ps.ptr++
						}
					default:
						ps.ptr--
						return perrAfterQ
					}
				}
				if (set.x && !set.xx) || unset.x {
					unset.xx = true
				}
				apply := func(v *bool, s, u bool) {
					if s {
						*v = true
					}
					if u {
						*v = false
					}
				}
				apply(&ps.noCapture, set.n, unset.n)
				apply(&ps.ext, set.x, unset.x)
				apply(&ps.extra, set.xx, unset.xx)
				apply(&ps.dupnames, set.j, unset.j)
				if ps.ptr >= end {
					return perrMissingParen
				}
				ps.ptr++
				if p[ps.ptr-1] == ')' {
					depth--
					if len(nests) > 1 && nests[len(nests)-2].depth == depth {
						nests = nests[:len(nests)-1]
					} else {
						nests[len(nests)-1].depth = depth
					}
				} else {
					ps.add(pcreItem{kind: piOpen})
				}
			case 'P':
				ps.ptr++
				if ps.ptr >= end {
					return perrMissingParen
				}
				switch p[ps.ptr] {
				case '<':
					if err := ps.defineName('>', &depth); err != 0 {
						return err
					}
				case '>':
					name, off, err := ps.readName(')')
					if err != 0 {
						return err
					}
					ps.add(pcreItem{kind: piRecurseName, name: name, off: off})
					okq = true
				case '=':
					name, off, err := ps.readName(')')
					if err != 0 {
						return err
					}
					ps.add(pcreItem{kind: piBackrefName, name: name, off: off})
					okq = true
				default:
					return perrAfterP
				}
			case 'R':
				ps.ptr++
				if ps.ptr >= end || p[ps.ptr] != ')' {
					return perrRParen
				}
				ps.add(pcreItem{kind: piRecurse, n: 0, off: ps.ptr})
				ps.ptr++
				okq = true
			case '+':
				if end-ps.ptr < 2 || !isDigit(p[ps.ptr+1]) {
					return perrDigitAfterQ
				}
				fallthrough
			case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				if err := ps.recursionByNumber(); err != 0 {
					return err
				}
				okq = true
			case '&':
				name, off, err := ps.readName(')')
				if err != 0 {
					return err
				}
				ps.add(pcreItem{kind: piRecurseName, name: name, off: off})
				okq = true
			case 'C':
				if err := ps.callout(); err != 0 {
					return err
				}
				okq = false
			case '(':
				if err := ps.condition(); err != 0 || ps.unknown {
					return err
				}
				depth++
			case '>':
				ps.add(pcreItem{kind: piOpen})
				depth++
				ps.ptr++
			case '=', '!', '*':
				ps.add(pcreItem{kind: piLookahead})
				depth++
				ps.ptr++
				ps.condAssertAt(depth)
			case '<':
				if end-ps.ptr <= 1 || (p[ps.ptr+1] != '=' && p[ps.ptr+1] != '!' && p[ps.ptr+1] != '*') {
					if err := ps.defineName('>', &depth); err != 0 {
						return err
					}
					break
				}
				ps.add(pcreItem{kind: piLookbehind, off: ps.ptr - 2})
				ps.ptr += 2
				depth++
				ps.condAssertAt(depth)
			case '\'':
				if err := ps.defineName('\'', &depth); err != 0 {
					return err
				}
			}
		case '|':
			if n := len(nests); n > 0 && nests[n-1].depth == depth && nests[n-1].reset {
				top := &nests[n-1]
				if ps.bracount > top.maxGroup {
					top.maxGroup = ps.bracount
				}
				ps.bracount = top.resetGroup
			}
			ps.add(pcreItem{kind: piAlt})
		case ')':
			okq = true
			if n := len(ps.condAsserts); n > 0 && ps.condAsserts[n-1] == depth {
				// A condition's assertion may not be repeated.
				ps.condAsserts = ps.condAsserts[:n-1]
				okq = false
			}
			if n := len(nests); n > 0 && nests[n-1].depth == depth {
				top := nests[n-1]
				ps.noCapture, ps.ext, ps.extra, ps.dupnames = top.noCapture, top.ext, top.extra, top.dupnames
				if top.reset && top.maxGroup > ps.bracount {
					ps.bracount = top.maxGroup
				}
				nests = nests[:n-1]
			}
			if depth == 0 {
				ps.ptr--
				return perrUnmatchedParen
			}
			depth--
			ps.add(pcreItem{kind: piKet})
		}
	}
	if depth != 0 {
		return perrMissingParen
	}
	return 0
}

func (ps *pcreParser) recursionByNumber() int {
	allow := ps.bracount
	if isDigit(ps.p[ps.ptr]) {
		allow = -1
	}
	n, ok, err := ps.readNumber(&ps.ptr, allow, pcreMaxGroup, perrGroupTooBig)
	if !ok {
		if err == 0 {
			err = perrNoSubpattern
		}
		return err
	}
	if n < 0 {
		ps.ptr--
		return perrNoSubpattern
	}
	if ps.ptr >= len(ps.p) || ps.p[ps.ptr] != ')' {
		return perrMissingParen
	}
	ps.add(pcreItem{kind: piRecurse, n: n, off: ps.ptr})
	ps.ptr++
	return 0
}

func (ps *pcreParser) defineName(term byte, depth *int) int {
	name, _, err := ps.readName(term)
	if err != 0 {
		return err
	}
	if ps.bracount >= pcreMaxGroup {
		return perrTooManyCaptures
	}
	ps.bracount++
	ps.add(pcreItem{kind: piOpen, n: ps.bracount})
	*depth++
	if len(ps.names) >= pcreNamesCountLimit {
		ps.unknown = true
		return 0
	}
	for _, ng := range ps.names {
		if ng.name == name {
			if ng.num == ps.bracount {
				return 0
			}
			if !ps.dupnames {
				return perrDupName
			}
		} else if ng.num == ps.bracount {
			return perrSameNumber
		}
	}
	ps.names = append(ps.names, pcreName{name, ps.bracount})
	return 0
}

// parseClass reads a character class, ps.ptr after its '['.
func (ps *pcreParser) parseClass(inescq *bool) int {
	p := ps.p
	end := len(p)
	if end-ps.ptr >= 6 && (p[ps.ptr:ps.ptr+6] == "[:<:]]" || p[ps.ptr:ps.ptr+6] == "[:>:]]") {
		ps.ptr += 6
		ps.items = append(ps.items, pcreItem{kind: piZero})
		return 0
	}
	if ps.ptr < end && (p[ps.ptr] == ':' || p[ps.ptr] == '.' || p[ps.ptr] == '=') {
		if _, ok := ps.checkPOSIXSyntax(ps.ptr); ok {
			colon := p[ps.ptr] == ':'
			ps.ptr--
			if colon {
				return perrPOSIXOutside
			}
			return perrCollating
		}
	}
	c := byte('[')
	negate := false
	for ps.ptr < end {
		c = p[ps.ptr]
		ps.ptr++
		if c == '\\' {
			if ps.ptr < end && p[ps.ptr] == 'E' {
				ps.ptr++
			} else if end-ps.ptr >= 3 && p[ps.ptr:ps.ptr+3] == `Q\E` {
				ps.ptr += 3
			} else {
				break
			}
		} else if ps.extra && (c == ' ' || c == '\t') {
			continue
		} else if !negate && c == '^' {
			negate = true
		} else {
			break
		}
	}
	const (
		rangeNo = iota
		rangeStarted
		rangeOKEscaped
		rangeOKLiteral
	)
	state := rangeNo
	last := -1
	for {
		literal := true
		v := int(c)
		if *inescq {
			if c == '\\' && ps.ptr < end && p[ps.ptr] == 'E' {
				*inescq = false
				ps.ptr++
				goto next
			}
			goto lit
		}
		if ps.extra && (c == ' ' || c == '\t') {
			goto next
		}
		if c == '[' && end-ps.ptr >= 3 && (p[ps.ptr] == ':' || p[ps.ptr] == '.' || p[ps.ptr] == '=') {
			if tend, ok := ps.checkPOSIXSyntax(ps.ptr); ok {
				if state == rangeStarted {
					return perrInvalidRange
				}
				if p[ps.ptr] != ':' {
					ps.ptr--
					return perrCollating
				}
				ps.ptr++
				if p[ps.ptr] == '^' {
					ps.ptr++
				}
				if !pcrePOSIXNames[p[ps.ptr:tend]] {
					return perrPOSIXName
				}
				ps.ptr = tend + 2
				if ps.ptr < end-1 && p[ps.ptr] == '-' && p[ps.ptr+1] != ']' {
					return perrInvalidRange
				}
				state = rangeNo
				goto next
			}
		}
		if c == '-' && state >= rangeOKEscaped {
			state = rangeStarted
			goto next
		}
		if c != '\\' {
			goto lit
		}
		{
			esc, ch, err := ps.checkEscape(true)
			if err != 0 {
				return err
			}
			switch esc {
			case 0:
				literal, v = false, ch
				goto lit
			case escb:
				literal, v = false, 8
				goto lit
			case escQ:
				*inescq = true
				goto next
			case escE:
				goto next
			case escB, escR, escX:
				ps.ptr--
				return perrClassEscape
			}
			if state == rangeStarted {
				return perrInvalidRange
			}
			state = rangeNo
			switch esc {
			case escN:
				return perrNInClass
			case escH, esch, escV, escv, escd, escD, escs, escS, escw, escW:
			case escP, escp:
				if err := ps.getUCP(); err != 0 {
					return err
				}
			default:
				ps.ptr--
				return perrClassEscape
			}
			if ps.ptr < end-1 && p[ps.ptr] == '-' && p[ps.ptr+1] != ']' {
				return perrInvalidRange
			}
			goto next
		}
	lit:
		if state == rangeStarted {
			if v != last && last > v {
				ps.ptr--
				return perrClassRange
			}
			state = rangeNo
		} else {
			if literal {
				state = rangeOKLiteral
			} else {
				state = rangeOKEscaped
			}
			last = v
		}
	next:
		if ps.ptr >= end {
			return perrMissingBracket
		}
		c = p[ps.ptr]
		ps.ptr++
		if c == ']' && !*inescq {
			break
		}
	}
	ps.items = append(ps.items, pcreItem{kind: piLit})
	return 0
}

// checkLookbehinds is check_lookbehinds: every branch of a lookbehind has
// a fixed length.
func (ps *pcreParser) checkLookbehinds() (int, int) {
	for i := 0; i < len(ps.items); i++ {
		if ps.items[i].kind != piLookbehind {
			continue
		}
		j, code, off := ps.lookbehindLengths(i)
		if code != 0 || ps.unknown {
			return code, off
		}
		i = j
	}
	return 0, 0
}

// lookbehindLengths checks the lookbehind opening at i; it returns the
// index of its closing item.
func (ps *pcreParser) lookbehindLengths(i int) (int, int, int) {
	off := ps.items[i].off
	j := i
	for {
		j++
		n, next, code, eoff := ps.branchLength(j)
		if n < 0 {
			if code == 0 {
				code, eoff = perrLookbehind, off
			}
			return next, code, eoff
		}
		if n > 65535 {
			return next, pcreLookbehindTooBig, off
		}
		j = next
		if j >= len(ps.items) || ps.items[j].kind != piAlt {
			return j, 0, 0
		}
	}
}

// branchLength is get_branchlength from item i: the length (-1 when not
// fixed), the index of the ALT or KET ending the branch, and an error
// with its offset when one other than "not fixed" applies.
func (ps *pcreParser) branchLength(i int) (int, int, int, int) {
	total, last := 0, 0
	for ; i < len(ps.items); i++ {
		it := ps.items[i]
		item := 0
		switch it.kind {
		case piKet, piAlt:
			return total, i, 0, 0
		case piLit:
			item = 1
		case piZero:
		case piVar:
			return -1, i, 0, 0
		case piQuant:
			if it.n != it.m {
				return -1, i, 0, 0
			}
			switch it.n {
			case 0:
				total -= last
			case 1:
			default:
				item = (it.n - 1) * last
			}
		case piLookahead:
			// Its lookbehinds are checked; it adds no length, nor a
			// quantifier after it.
			j := i + 1
			for ; j < len(ps.items) && ps.items[j].kind != piKet; j++ {
				switch ps.items[j].kind {
				case piLookbehind:
					k, code, off := ps.lookbehindLengths(j)
					if code != 0 || ps.unknown {
						return -1, k, code, off
					}
					j = k
				case piOpen, piLookahead:
					ps.unknown = true
					return -1, j, 0, 0
				}
			}
			i = j
			if i+1 < len(ps.items) && ps.items[i+1].kind == piQuant {
				i++
			}
		case piLookbehind:
			k, code, off := ps.lookbehindLengths(i)
			if code != 0 || ps.unknown {
				return -1, k, code, off
			}
			i = k
		case piOpen:
			n, k, code, off := ps.groupLength(i)
			if n < 0 {
				return -1, k, code, off
			}
			item, i = n, k
		case piBackref, piRecurse:
			if it.n > ps.bracount {
				return -1, i, perrNoSubpattern, it.off
			}
			ps.unknown = true
			return -1, i, 0, 0
		case piBackrefName, piRecurseName:
			if ps.nameNumber(it.name) == 0 {
				return -1, i, perrNoSubpattern, it.off
			}
			ps.unknown = true
			return -1, i, 0, 0
		}
		total += item
		last = item
	}
	return total, i, 0, 0
}

// groupLength is get_grouplength for the group opening at i: every branch
// has the same length. It returns the index of the group's KET.
func (ps *pcreParser) groupLength(i int) (int, int, int, int) {
	length := -1
	j := i
	for {
		n, next, code, off := ps.branchLength(j + 1)
		if n < 0 || ps.unknown {
			return -1, next, code, off
		}
		if length >= 0 && n != length {
			return -1, next, 0, 0
		}
		length = n
		j = next
		if j >= len(ps.items) || ps.items[j].kind == piKet {
			return length, j, 0, 0
		}
	}
}

func (ps *pcreParser) nameNumber(name string) int {
	for _, ng := range ps.names {
		if ng.name == name {
			return ng.num
		}
	}
	return 0
}

// checkRefs is the compile pass's check that references name groups that
// exist, in pattern order.
func (ps *pcreParser) checkRefs() (int, int) {
	for _, it := range ps.items {
		switch it.kind {
		case piBackref, piRecurse:
			if it.n > ps.bracount {
				return perrNoSubpattern, it.off
			}
		case piBackrefName, piRecurseName:
			if ps.nameNumber(it.name) == 0 {
				return perrNoSubpattern, it.off
			}
		case piCondNumber:
			if it.n > ps.bracount {
				return perrNoSubpattern, it.off
			}
		case piCondName:
			if ps.nameNumber(it.name) != 0 {
				continue
			}
			if it.m != condRNum {
				return perrNoSubpattern, it.off
			}
			// (?(Rdigits) no group is named: a recursion test.
			g := 0
			for i := 1; i < len(it.name); i++ {
				if g = g*10 + int(it.name[i]-'0'); g > pcreMaxGroup {
					return perrGroupTooBig, it.off + i
				}
			}
			if g > ps.bracount {
				return perrNoSubpattern, it.off
			}
		}
	}
	return 0, 0
}

// pcreScripts and pcreProperties are PCRE2 10.42's property names (its
// utt table), scripts apart for \p{sc:...}.
var pcreScripts, pcreProperties = func() (map[string]bool, map[string]bool) {
	s, o := map[string]bool{}, map[string]bool{}
	for _, n := range strings.Fields(pcreScriptNames) {
		s[n] = true
		o[n] = true
	}
	for _, n := range strings.Fields(pcreOtherProperties) {
		o[n] = true
	}
	return s, o
}()
