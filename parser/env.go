package parser

import (
	"os"
	"strconv"
	"strings"
)

// env is the environment seen by one parse: the process environment plus
// what the configuration's setenv/presetenv/unsetenv/resetenv lines did so
// far. It never touches the real process environment, so parses can run
// concurrently.
type env struct {
	base    func(string) (string, bool)
	set     map[string]string
	unset   map[string]bool
	cleared bool
	keep    map[string]bool
	file    string
	section string
}

func newEnv(lookup func(string) (string, bool)) *env {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &env{base: lookup}
}

func (e *env) lookup(name string, line int) (string, bool) {
	switch name {
	case ".LINE":
		return strconv.Itoa(line), true
	case ".FILE":
		return e.file, true
	case ".SECTION":
		return e.section, true
	}
	if v, ok := e.set[name]; ok {
		return v, true
	}
	if e.unset[name] {
		return "", false
	}
	if e.cleared && !e.keep[name] {
		return "", false
	}
	return e.base(name)
}

// apply executes a global-section environment keyword, if words is one.
func (e *env) apply(words []string) {
	if len(words) == 0 {
		return
	}
	switch words[0] {
	case "setenv", "presetenv":
		// As HAProxy: a fourth word is ignored, a fifth or a bad name
		// is an error and sets nothing.
		if len(words) < 3 || len(words) > 4 && words[4] != "" || words[2] == "" || !envNameOK(words[1]) {
			return
		}
		if words[0] == "presetenv" {
			if _, ok := e.lookup(words[1], 0); ok {
				return
			}
		}
		if e.set == nil {
			e.set = map[string]string{}
		}
		e.set[words[1]] = words[2]
		delete(e.unset, words[1])
	case "unsetenv":
		for _, n := range words[1:] {
			// HAProxy stops at the first empty or bad name.
			if !envNameOK(n) {
				break
			}
			if e.unset == nil {
				e.unset = map[string]bool{}
			}
			e.unset[n] = true
			delete(e.set, n)
		}
	case "resetenv":
		keep := map[string]bool{}
		for _, n := range words[1:] {
			keep[n] = true
		}
		for n := range e.set {
			if !keep[n] {
				delete(e.set, n)
			}
		}
		e.cleared, e.keep = true, keep
	}
}

// expandUnquoted expands $VAR and ${VAR} in an address, as HAProxy's
// str2sa_range does for bind, server and log addresses.
func (e *env) expandUnquoted(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		brace := s[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
			k++
		}
		if k == j || (brace && (k >= len(s) || s[k] != '}')) {
			b.WriteByte(s[i])
			continue
		}
		v, _ := e.lookup(s[j:k], 0)
		b.WriteString(v)
		if brace {
			k++
		}
		i = k - 1
	}
	return b.String()
}

// expandAddr is HAProxy's env_expand, which str2sa_range applies to every
// address, quoted or not: "$NAME" and "${NAME}" become the variable's
// value, or nothing when it is not set.
func (e *env) expandAddr(s string) string {
	if e == nil || !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i + 1
		brace := j < len(s) && s[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
			k++
		}
		if v, ok := e.lookup(s[j:k], 0); ok {
			b.WriteString(v)
		}
		if brace && k < len(s) && s[k] == '}' {
			k++
		}
		i = k
	}
	return b.String()
}
