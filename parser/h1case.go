package parser

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// H1CaseAdjust is the global h1-case-adjust map: a lowercase header name
// and the case it is sent in to the HTTP/1 clients of a frontend with
// "option h1-case-adjust-bogus-client" and the servers of a backend with
// "option h1-case-adjust-bogus-server".
type H1CaseAdjust struct {
	// To maps a name as it goes out (in lower case) to the name as sent.
	To map[string]string
	// File is h1-case-adjust-file's, the last one given, read once the
	// configuration is parsed; Loaded says it was.
	File   string
	Loaded bool
}

// add is HAProxy's add_hdr_case_adjust; "" when the entry is taken.
func (h *H1CaseAdjust) add(from, to string) string {
	switch {
	case to == "":
		return "expect <to>"
	case !strings.EqualFold(from, to):
		return "<from> and <to> must not differ execpt the case"
	}
	// Keys compare as written, as HAProxy's tree does: a key with capitals
	// never matches the lowercase names that go out.
	if _, dup := h.To[from]; dup {
		return fmt.Sprintf("duplicate entry '%s'", from)
	}
	if h.To == nil {
		h.To = map[string]string{}
	}
	h.To[from] = to
	return ""
}

func globalH1CaseAdjust(c *pctx) {
	if c.tooMany(2) {
		return
	}
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alert("'%s' expects <from> and <to> as argument.", c.args[0])
		return
	}
	if err := c.cp.cfg.Global.H1Case.add(c.arg(1), c.arg(2)); err != "" {
		c.alert("%s", err)
	}
}

func globalH1CaseAdjustFile(c *pctx) {
	if c.tooMany(1) {
		return
	}
	if c.arg(1) == "" {
		c.alert("'%s' expects <file> as argument.", c.args[0])
		return
	}
	c.cp.cfg.Global.H1Case.File = c.arg(1)
}

func init() {
	globalKeywords["h1-case-adjust"] = keyword{support: Supported, handle: globalH1CaseAdjust}
	globalKeywords["h1-case-adjust-file"] = keyword{support: Supported, handle: globalH1CaseAdjustFile}
}

// H1CasePostDiags is HAProxy's cfg_h1_headers_case_adjust_postparser: it
// reads h1-case-adjust-file into the map, two names a line, and stops at
// the first bad line.
func H1CasePostDiags(cfg *Config) Diagnostics {
	h := &cfg.Global.H1Case
	if h.File == "" || h.Loaded {
		return nil
	}
	h.Loaded = true
	fatal := func(format string, a ...any) Diagnostics {
		return Diagnostics{{Severity: Alert, Fatal: true, Msg: fmt.Sprintf(format, a...)}}
	}
	f, err := os.Open(h.File)
	if err != nil {
		return fatal("h1-headers-case-adjust-file '%s': failed to open file.", h.File)
	}
	defer f.Close()
	// HAProxy reads lines with fgets into its trash buffer: a longer line
	// is read in pieces, each taken as a line.
	rd := bufio.NewReaderSize(f, 16384)
	line := 0
	for {
		text, err := readPiece(rd, 16383)
		if text == "" && err != nil {
			break
		}
		line++
		text = strings.TrimLeft(text, " \t")
		if text == "" || text[0] == '#' || text[0] == '\r' || text[0] == '\n' {
			continue
		}
		key, rest := text, ""
		if i := strings.IndexAny(text, " \t\r\n"); i >= 0 {
			key, rest = text[:i], text[i:]
		}
		rest = strings.TrimLeft(rest, " \t")
		if i := strings.IndexAny(rest, "\r\n"); i >= 0 {
			rest = rest[:i]
		}
		rest = strings.TrimRight(rest, " \t")
		if msg := h.add(key, rest); msg != "" {
			return fatal("h1-headers-case-adjust-file '%s' : %s at line %d.", h.File, msg, line)
		}
	}
	return nil
}

// readPiece reads up to max bytes ending with a newline, as fgets does.
func readPiece(rd *bufio.Reader, max int) (string, error) {
	var b strings.Builder
	for b.Len() < max {
		c, err := rd.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}
