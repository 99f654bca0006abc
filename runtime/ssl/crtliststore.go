package ssl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// storeList is HAProxy's struct crtlist: the lines of a crt-list file, or
// the files of a "crt" directory, as loaded and as changed by "add|del
// ssl crt-list"; binds read them from here.
type storeList struct {
	path    string
	dir     bool
	entries []*CrtListLine
	// lines is the number of lines the file had: added entries are
	// numbered after them.
	lines int
	binds map[*BindTLS]bool
}

// crtList gives the lines of a crt-list (or, with dir, the files of a
// directory) to load, in order, the first time reading the file; bt is
// recorded as a user.
func (s *Store) crtList(path string, dir bool, g *Globals, bt *BindTLS, load func(*CrtListLine) *Error) *Error {
	if s == nil {
		return readList(path, dir, g, load, nil)
	}
	s.mu.Lock()
	l := s.lists[path]
	if l == nil {
		s.mu.Unlock()
		nl := &storeList{path: path, dir: dir, binds: map[*BindTLS]bool{}}
		if err := readList(path, dir, g, func(ln *CrtListLine) *Error {
			nl.entries = append(nl.entries, ln)
			return load(ln)
		}, &nl.lines); err != nil {
			return err
		}
		s.mu.Lock()
		if s.lists == nil {
			s.lists = map[string]*storeList{}
		}
		if s.lists[path] == nil {
			s.lists[path] = nl
		}
		s.lists[path].binds[bt] = true
		s.mu.Unlock()
		return nil
	}
	l.binds[bt] = true
	entries := append([]*CrtListLine(nil), l.entries...)
	s.mu.Unlock()
	for _, ln := range entries {
		if err := load(ln); err != nil {
			return err
		}
	}
	return nil
}

// readList reads a crt-list file, or lists a directory's certificate
// files as entries without settings.
func readList(path string, dir bool, g *Globals, load func(*CrtListLine) *Error, lines *int) *Error {
	if !dir {
		return readCrtListCount(path, g, load, lines)
	}
	files, err := dirCertFiles(strings.TrimRight(path, "/"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := load(&CrtListLine{Path: f}); err != nil {
			return err
		}
	}
	return nil
}

// CrtListCLI answers "show|add|del ssl crt-list" as HAProxy 2.6 does.
// args are the words after "crt-list".
func (s *Store) CrtListCLI(verb string, args []string, payload string, hasPayload bool, g *Globals) string {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	trim := func(p string) string { return strings.TrimRight(p, "/") }
	s.mu.Lock()
	defer s.mu.Unlock()
	switch verb {
	case "show":
		dump, name := true, arg(0)
		if name == "-n" {
			dump, name = false, arg(1)
			if name == "" {
				return "'show ssl crt-list -n' expects a filename or a directory\n"
			}
		}
		if name == "" {
			paths := make([]string, 0, len(s.lists))
			for p := range s.lists {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			return strings.Join(paths, "\n") + map[bool]string{true: "\n", false: ""}[len(paths) > 0]
		}
		l := s.lists[trim(name)]
		if l == nil {
			return "didn't find the specified filename\n"
		}
		var b strings.Builder
		b.WriteString("# " + l.path + "\n")
		for _, e := range l.entries {
			b.WriteString(e.Path)
			if !dump {
				fmt.Fprintf(&b, ":%d", e.Line)
			}
			writeConf(&b, e.Conf)
			for _, f := range e.Filters {
				b.WriteString(" " + f)
			}
			b.WriteString("\n")
		}
		return b.String()
	case "add":
		if arg(0) == "" || !hasPayload && arg(1) == "" {
			return "'add ssl crtlist' expects a filename and a certificate name\n"
		}
		return s.addListEntry(trim(arg(0)), arg(1), payload, hasPayload, g)
	case "del":
		if arg(0) == "" || arg(1) == "" {
			return "'del ssl crtlist' expects a filename and a certificate name\n"
		}
		msg, ok := s.delListEntry(arg(0), arg(1))
		if !ok {
			return "Can't delete the entry: " + msg + "\n"
		}
		return msg
	}
	return ""
}

// addListEntry is cli_parse_add_crtlist and its I/O handler.
func (s *Store) addListEntry(list, certArg, payload string, hasPayload bool, g *Globals) string {
	fail := func(msg string) string { return "Can't edit the crt-list: " + msg + "\n" }
	l := s.lists[list]
	if l == nil {
		return fail(fmt.Sprintf("crt-list '%s' does not exist!", list))
	}
	ln := &CrtListLine{Path: certArg}
	if hasPayload {
		if strings.Contains(payload, "\n") {
			return fail("only one line of payload is supported!")
		}
		var err *Error
		if ln, err = ParseCrtListLine(payload, "CLI", 1, g); err != nil {
			return fail(err.Msg)
		}
		if ln == nil {
			return fail("'add ssl crtlist' should contain the certificate name in the payload")
		}
		// From the CLI, a CA or CRL file must already be loaded.
		if c := ln.Conf; c != nil {
			for _, f := range []struct{ kw, path string }{{"ca-file", c.CAFile}, {"ca-verify-file", c.CAVerifyFile}, {"crl-file", c.CRLFile}} {
				if f.path != "" && (s.cas[f.path] == nil || s.cas[f.path].st == nil) {
					return fail(fmt.Sprintf("'%s' : unable to load %s", f.kw, f.path))
				}
			}
		}
	}
	if l.dir {
		slash := strings.LastIndexByte(ln.Path, '/')
		if slash < 0 || ln.Path[:slash] != l.path {
			return fail(fmt.Sprintf("'%s' is a directory, certificate path '%s' must contain the directory path", l.path, ln.Path))
		}
	}
	if !strings.HasPrefix(ln.Path, "/") && g != nil && g.CrtBase != "" {
		ln.Path = g.CrtBase + "/" + ln.Path
	}
	sc := s.certs[ln.Path]
	if sc == nil {
		return fail(fmt.Sprintf("certificate '%s' does not exist!", ln.Path))
	}
	if sc.ck == nil {
		return fail(fmt.Sprintf("certificate '%s' is empty!", ln.Path))
	}
	if l.dir {
		for _, e := range l.entries {
			if e.Path == ln.Path {
				return fail("file already exists in this directory!")
			}
		}
		if ln.Conf != nil || len(ln.Filters) > 0 {
			return fail("this is a directory, SSL configuration and filters are not allowed")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Inserting certificate '%s' in crt-list '%s'", ln.Path, l.path)
	l.entries = append(l.entries, ln)
	users := make(map[*BindTLS]int, len(l.binds))
	for bt := range l.binds {
		users[bt] = 1
	}
	if failed := s.reloadBinds(&b, users); failed != "" {
		l.entries = l.entries[:len(l.entries)-1]
		return b.String() + failed
	}
	if !l.dir {
		l.lines++
		ln.Line = l.lines
	}
	b.WriteString("\nSuccess!\n")
	return b.String()
}

// delListEntry is cli_parse_del_crtlist; ok is false for an error.
func (s *Store) delListEntry(list, certArg string) (msg string, ok bool) {
	line := 0
	if i := strings.IndexByte(certArg, ':'); i >= 0 {
		n, err := strconv.Atoi(certArg[i+1:])
		if err != nil || n <= 0 {
			return fmt.Sprintf("wrong line number after colons in '%s'!", certArg), false
		}
		certArg, line = certArg[:i], n
	}
	list = strings.TrimRight(list, "/")
	l := s.lists[list]
	if l == nil {
		return fmt.Sprintf("crt-list '%s' does not exist!", list), false
	}
	sc := s.certs[certArg]
	if sc == nil {
		return fmt.Sprintf("certificate '%s' does not exist!", certArg), false
	}
	if sc.ck == nil {
		return fmt.Sprintf("certificate '%s' is empty!", certArg), false
	}
	var nums []string
	pick := -1
	count := 0
	for i, e := range l.entries {
		if e.Path != certArg {
			continue
		}
		count++
		nums = append(nums, strconv.Itoa(e.Line))
		if (line == 0 || e.Line == line) && pick < 0 {
			pick = i
		}
	}
	switch {
	case count == 0:
		return fmt.Sprintf("certificate '%s' can't be found in crt-list '%s'!", certArg, list), false
	case pick < 0:
		return fmt.Sprintf("found a certificate '%s' but the line number is incorrect, please specify a correct line number preceded by colons (%s)!", certArg, strings.Join(nums, ", ")), false
	case line == 0 && count > 1:
		return fmt.Sprintf("found the certificate '%s' in several entries, please specify a line number preceded by colons (%s)!", certArg, strings.Join(nums, ", ")), false
	}
	e := l.entries[pick]
	var defaults []string
	for bt := range l.binds {
		if st := bt.state.Load(); st != nil && st.def != nil && st.def.line == e && !bt.opts.StrictSNI {
			defaults = append(defaults, "\t- "+bt.Where+"\n")
		}
	}
	if len(defaults) > 0 {
		sort.Strings(defaults)
		return fmt.Sprintf("certificate '%s' cannot be deleted, it is used as default certificate by the following frontends:\n", certArg) + strings.Join(defaults, ""), false
	}
	l.entries = append(l.entries[:pick:pick], l.entries[pick+1:]...)
	var b strings.Builder
	users := make(map[*BindTLS]int, len(l.binds))
	for bt := range l.binds {
		users[bt] = 1
	}
	s.reloadBinds(&b, users)
	return fmt.Sprintf("Entry '%s' deleted in crtlist '%s'!\n", certArg, list), true
}

// writeConf is dump_crtlist_sslconf: the settings of a line between
// brackets, in HAProxy's order.
func writeConf(b *strings.Builder, c *SSLConf) {
	if c == nil {
		return
	}
	var parts []string
	if len(c.ALPN) > 0 {
		// HAProxy appends the string's terminating NUL.
		parts = append(parts, "alpn "+strings.Join(c.ALPN, ",")+"\x00")
	}
	if c.Verify != "" {
		parts = append(parts, "verify "+c.Verify)
	}
	if c.NoCANames {
		parts = append(parts, "no-ca-names")
	}
	if c.Allow0RTT {
		parts = append(parts, "allow-0rtt")
	}
	for _, kv := range [][2]string{{"ca-file", c.CAFile}, {"crl-file", c.CRLFile}, {"ciphers", c.Ciphers},
		{"ciphersuites", c.Ciphersuites}, {"curves", c.Curves}, {"ecdhe", c.Ecdhe}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if c.Methods.Min != 0 {
		parts = append(parts, "ssl-min-ver "+c.Methods.Min.String())
	}
	if c.Methods.Max != 0 {
		parts = append(parts, "ssl-max-ver "+c.Methods.Max.String())
	}
	b.WriteString(" [" + strings.Join(parts, " ") + "]")
}
