package ssl

import (
	"bytes"
	"os"
)

// Limits of a crt-list file (include/haproxy/defaults.h).
const (
	crtLineSize = 65536
	maxCrtArgs  = 2048
)

// CrtListLine is one parsed crt-list line:
//
//	<crtfile> [\[<sslbindconf> ...\]] [[!]<snifilter> ...]
type CrtListLine struct {
	Path    string
	Conf    *SSLConf // nil without brackets
	Filters []string // in line order, "!" and "*" prefixes kept
	Line    int
}

// ParseCrtListLine splits one crt-list line the way crtlist_parse_line
// does. An empty line returns a nil line and no error. file and linenum
// only word the errors.
func ParseCrtListLine(line string, file string, linenum int, g *Globals) (*CrtListLine, *Error) {
	if len(line) >= crtLineSize-1 && line[len(line)-1] != '\n' {
		return nil, parseErr(msgListLineTooLong, file, linenum, crtLineSize-1)
	}
	var args []string
	sslB, sslE := 0, 0
	newarg := true
	var cur []byte
	flush := func() {
		if cur != nil {
			args[len(args)-1] = string(cur)
			cur = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || (c >= '\t' && c <= '\r'):
			flush()
			newarg = true
		case c == '[':
			flush()
			if sslB != 0 {
				return nil, parseErr(msgListManyOpen, file, linenum)
			}
			if len(args) == 0 {
				return nil, parseErr(msgListCertFirst, file, linenum)
			}
			sslB = len(args)
			newarg = true
		case c == ']':
			flush()
			if sslE != 0 {
				return nil, parseErr(msgListManyClose, file, linenum)
			}
			if sslB == 0 {
				return nil, parseErr(msgListNoOpen, file, linenum)
			}
			sslE = len(args)
			newarg = true
		case newarg:
			if len(args) == maxCrtArgs {
				return nil, parseErr(msgListManyArgs, file, linenum)
			}
			newarg = false
			args = append(args, "")
			cur = append(cur[:0:0], c)
		default:
			cur = append(cur, c)
		}
	}
	flush()
	if len(args) == 0 {
		return nil, nil
	}
	n := len(args)
	args = append(args, "") // the terminating empty argument keywords may read
	out := &CrtListLine{Path: args[0], Line: linenum}
	curArg := 1
	var kwErr *Error
	if sslB != 0 {
		out.Conf = &SSLConf{}
		curArg = sslB
	}
	for curArg < sslE {
		skip, err := parseConfKeyword(args[curArg], args[curArg+1], out.Conf, g)
		if skip < 0 {
			if kwErr == nil {
				return nil, parseErr(msgListUnknownKw, file, linenum, args[curArg])
			}
			return nil, kwErr
		}
		if err != nil {
			kwErr = err
		}
		if curArg+1+skip > sslE {
			return nil, parseErr(msgListOutOfBrackets, file, linenum, args[curArg])
		}
		curArg += 1 + skip
	}
	if kwErr != nil {
		return nil, kwErr
	}
	if curArg < n {
		out.Filters = append([]string(nil), args[curArg:n]...)
	}
	return out, nil
}

// readCrtList parses a crt-list file (crtlist_parse_file). load is called
// for each certificate line in order, before the next line is parsed, so
// errors come in HAProxy's order.
func readCrtList(file string, g *Globals, load func(*CrtListLine) *Error) *Error {
	return readCrtListCount(file, g, load, nil)
}

// readCrtListCount is readCrtList; lines, when set, gets the number of
// lines read.
func readCrtListCount(file string, g *Globals, load func(*CrtListLine) *Error, lines *int) *Error {
	data, err := os.ReadFile(file)
	if err != nil {
		return parseErr(msgListOpen, file, strerror(err))
	}
	crtBase := ""
	if g != nil {
		crtBase = g.CrtBase
	}
	linenum := 0
	missingLF := -1
	for len(data) > 0 {
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 && i < crtLineSize-1 {
			raw, data = data[:i+1], data[i+1:]
		} else if len(data) > crtLineSize-1 {
			raw, data = data[:crtLineSize-1], data[crtLineSize-1:]
		} else {
			raw, data = data, nil
		}
		if missingLF != -1 {
			return parseErr(msgListStrayNUL, file, linenum, missingLF+1)
		}
		linenum++
		if z := bytes.IndexByte(raw, 0); z >= 0 {
			raw = raw[:z]
		}
		if len(raw) == crtLineSize-1 && raw[len(raw)-1] != '\n' {
			return parseErr(msgListLineTooLong, file, linenum, crtLineSize-1)
		}
		if len(raw) > 0 && (raw[0] == '#' || raw[0] == '\n' || raw[0] == '\r') {
			continue
		}
		if len(raw) > 0 && raw[len(raw)-1] == '\n' {
			raw = raw[:len(raw)-1]
		} else {
			missingLF = len(raw)
		}
		ln, perr := ParseCrtListLine(string(raw), file, linenum, g)
		if perr != nil {
			return perr
		}
		if ln == nil {
			continue
		}
		ln.Path = withBase(crtBase, ln.Path)
		if err := load(ln); err != nil {
			return err
		}
	}
	if missingLF != -1 {
		return parseErr(msgListNoLF, file, linenum, missingLF+1)
	}
	if lines != nil {
		*lines = linenum
	}
	return nil
}
