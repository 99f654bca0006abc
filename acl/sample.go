package acl

import (
	"fmt"
	"strconv"
	"strings"
)

// Sample is a compiled sample fetch used outside ACLs, such as the
// "%[req.hdr(host)]" parts of a dynamic use_backend name.
type Sample struct {
	fe    *fetch
	lower bool
	// names, for a Table's sample, are its rules' values.
	names []string
}

// Names is a sample whose value is names[i] for the rule i a Table
// condition has just found.
func Names(names []string) *Sample { return &Sample{names: names} }

// CompileSample compiles "fetch(args)" optionally followed by the
// converters the runtime implements (",lower").
func CompileSample(expr string) (*Sample, error) {
	name := expr
	conv := ""
	if i := strings.IndexByte(expr[strings.LastIndexByte(expr, ')')+1:], ','); i >= 0 {
		off := strings.LastIndexByte(expr, ')') + 1
		name, conv = expr[:off+i], expr[off+i+1:]
	}
	s := &Sample{}
	for _, c := range strings.Split(conv, ",") {
		switch c {
		case "":
		case "lower":
			s.lower = true
		default:
			return nil, fmt.Errorf("converter '%s': %w", c, errNotImpl)
		}
	}
	args := ""
	if i := strings.IndexByte(name, '('); i >= 0 {
		if !strings.HasSuffix(name, ")") {
			return nil, errorf("missing closing ')' after arguments to fetch keyword '%s'", name[:i])
		}
		name, args = name[:i], name[i+1:len(name)-1]
	}
	fe, err := parseFetch(name, args)
	if err != nil {
		if err == errNotImpl {
			return nil, fmt.Errorf("fetch '%s': %w", name, errNotImpl)
		}
		return nil, err
	}
	s.fe = fe
	return s, nil
}

// Append appends the sample's first value to dst as text; ok is false
// when the fetch yields nothing.
func (s *Sample) Append(dst []byte, t *Txn) ([]byte, bool) {
	if s.names != nil {
		if int(t.hit) >= len(s.names) || t.hit < 0 {
			return dst, false
		}
		return append(dst, s.names[t.hit]...), true
	}
	e := Expr{fe: s.fe, m: mFound}
	t.matched = false
	if !s.fe.each(t, &e) {
		return dst, false
	}
	v := &t.s
	start := len(dst)
	switch s.fe.typ {
	case tStr:
		dst = append(dst, v.b...)
	case tIP:
		dst = v.ip.AppendTo(dst)
	default:
		dst = strconv.AppendInt(dst, v.i, 10)
	}
	if s.lower {
		lower(dst[start:])
	}
	return dst, true
}
