package ssl

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// Error is a configuration error worded as HAProxy 2.6 words it.
//
// HAProxy reports TLS errors at two moments. While it parses a "bind" line
// (Late false) it prints
//
//	parsing [FILE:LINE] : 'bind ADDR' in section 'SECTION' : MSG
//
// and Msg is that MSG. After parsing, when it prepares the SSL contexts
// (Late true), it prints one message per context that uses the faulty
// setting, in the form
//
//	Proxy 'NAME': MSG for bind 'ADDR' at [FILE:LINE].
//
// Alert renders both forms.
type Error struct {
	Late bool
	Msg  string
	// Before holds alerts HAProxy prints without position just before
	// this one (for example "Couldn't open the ca-file ...").
	Before []string
	late   []lateMsg
}

// lateMsg is one context preparation message: "Proxy 'P': core for bind
// 'A' at [F:L]tail."; noBind drops the "for bind 'A'" part.
type lateMsg struct {
	core, tail string
	noBind     bool
}

func (e *Error) Error() string { return e.Msg }

// Site locates a bind line for Alert.
type Site struct {
	File    string
	Line    int
	Section string // "frontend" or "listen"
	Proxy   string
	Bind    string // the address argument as written
}

// Warning renders msg as HAProxy warns about a bind line's argument.
func (s Site) Warning(msg string) string {
	return fmt.Sprintf("parsing [%s:%d] : 'bind %s' in section '%s' : %s", s.File, s.Line, s.Bind, s.Section, indentMsg(msg))
}

// Alert returns the stderr lines HAProxy 2.6 prints for e. Each Before line
// and the first message line follow "[ALERT]    (PID) : config : "; for a
// late error the further lines are printed bare, as HAProxy does.
func (e *Error) Alert(s Site) (alerts []string, bare []string) {
	alerts = append(alerts, e.Before...)
	if !e.Late {
		return append(alerts, s.Warning(e.Msg)), nil
	}
	for i, m := range e.late {
		var line string
		if m.noBind {
			line = fmt.Sprintf("Proxy '%s': %s at [%s:%d]%s.", s.Proxy, m.core, s.File, s.Line, m.tail)
		} else {
			line = fmt.Sprintf("Proxy '%s': %s for bind '%s' at [%s:%d]%s.", s.Proxy, m.core, s.Bind, s.File, s.Line, m.tail)
		}
		if i == 0 {
			alerts = append(alerts, line)
		} else {
			bare = append(bare, line)
		}
	}
	return alerts, bare
}

// indentMsg is HAProxy's indent_msg(msg, 2): a message of several lines
// starts on its own line and each line is indented by two spaces.
func indentMsg(msg string) string {
	if !strings.Contains(msg, "\n") {
		return msg
	}
	return "\n  " + strings.ReplaceAll(msg, "\n", "\n  ")
}

func parseErr(format string, a ...any) *Error {
	return &Error{Msg: strings.TrimSuffix(fmt.Sprintf(format, a...), "\n")}
}

func newLate(msgs []lateMsg) *Error {
	if len(msgs) == 0 {
		return nil
	}
	return &Error{Late: true, Msg: msgs[0].core, late: msgs}
}

// Limitation is returned for a setting HAProxy accepts but Go's crypto/tls
// cannot honour. It names the keyword and what is missing.
type Limitation struct {
	Keyword string
	Value   string
	Reason  string
}

func (l *Limitation) Error() string {
	if l.Value == "" {
		return fmt.Sprintf("'%s' : %s", l.Keyword, l.Reason)
	}
	return fmt.Sprintf("'%s %s' : %s", l.Keyword, l.Value, l.Reason)
}

// strerror spells an I/O error as glibc's strerror does.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if s, ok := errnoText[errno]; ok {
			return s
		}
		return "Unknown error " + strconv.Itoa(int(errno))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "No such file or directory"
	}
	if errors.Is(err, fs.ErrPermission) {
		return "Permission denied"
	}
	return err.Error()
}

var errnoText = map[syscall.Errno]string{
	syscall.ENOENT:       "No such file or directory",
	syscall.EACCES:       "Permission denied",
	syscall.ENOTDIR:      "Not a directory",
	syscall.EISDIR:       "Is a directory",
	syscall.ELOOP:        "Too many levels of symbolic links",
	syscall.ENAMETOOLONG: "File name too long",
	syscall.EIO:          "Input/output error",
	syscall.EMFILE:       "Too many open files",
}

// Message templates, as printed by HAProxy 2.6 (src/ssl_sock.c,
// src/ssl_ckch.c, src/ssl_crtlist.c, src/cfgparse-ssl.c).
const (
	msgStat              = "unable to stat SSL certificate from file '%s' : %s."
	msgCannotOpen        = "cannot open the file '%s'."
	msgNoCert            = "unable to load certificate from file '%s'."
	msgBadChain          = "unable to load certificate chain from file '%s'."
	msgNoKey             = "No Private Key found in '%s'."
	msgKeyUnreadable     = " '%s' is present but cannot be read or parsed'."
	msgBadKey            = "unable to load private key from file '%s'."
	msgKeyMismatch       = "inconsistencies between private key and certificate loaded '%s'."
	msgScanDir           = "unable to scan directory '%s' : %s."
	msgMissingCrt        = "'%s' : missing certificate location"
	msgListOpen          = "cannot open file '%s' : %s"
	msgListPrefix        = "'crt-list' : %s"
	msgListLineTooLong   = "parsing [%s:%d]: line too long, limit is %d characters"
	msgListStrayNUL      = "parsing [%s:%d]: Stray NUL character at position %d."
	msgListNoLF          = "parsing [%s:%d]: Missing LF on last line, file might have been truncated at position %d."
	msgListManyOpen      = "parsing [%s:%d]: too many '['"
	msgListCertFirst     = "parsing [%s:%d]: file must start with a cert"
	msgListManyClose     = "parsing [%s:%d]: too many ']'"
	msgListNoOpen        = "parsing [%s:%d]: missing '['"
	msgListManyArgs      = "parsing [%s:%d]: too many args "
	msgListOutOfBrackets = "parsing [%s:%d]: ssl args out of '[]' for %s"
	msgListUnknownKw     = "parsing [%s:%d]: unknown ssl keyword %s"
	msgListPathTooLong   = "parsing [%s:%d]: '%s' : path too long"
	msgVerifyMissing     = "'%s' : missing verify method"
	msgVerifyUnknown     = "'%s' : unknown verify method '%s', only 'none', 'optional', and 'required' are supported"
	msgVersionMissing    = "'%s' : missing the ssl/tls version"
	msgVersionUnknown    = "'%s' : unknown ssl/tls version"
	msgOptionNotImpl     = "'%s' : option not implemented"
	msgALPNMissing       = "'%s' : missing the comma-delimited ALPN protocol suite"
	msgALPNTooLong       = "'%s' : ALPN protocol name too long : '%s'"
	msgNPNMissing        = "'%s' : missing the comma-delimited NPN protocol suite"
	msgCAMissing         = "'%s' : missing CAfile path"
	msgCRLMissing        = "'%s' : missing CRLfile path"
	msgStoreLoad         = "'%s' : unable to load %s"
	msgStoreOpen         = "Couldn't open the ca-file '%s' (%s)."
	msgStoreEmpty        = "no certificate or crl found"
	msgArgMissing        = "'%s' : missing %s"
	msgIgnErrMissing     = "'%s' : missing error IDs list"
	msgIgnErrRange       = "'%s' : ID '%d' out of range (1..94) in error IDs list '%s'"

	lateCiphers      = "unable to set SSL cipher list to '%s'"
	lateCiphersuites = "unable to set TLS 1.3 cipher suites to '%s'"
	lateCurves       = "unable to set SSL curves list to '%s'"
	lateEcdhe        = "unable to set elliptic named curve to '%s'"
	lateVerifyNoCA   = "verify is enabled but no CA file specified"
	lateNoVersion    = "all SSL/TLS versions are disabled"
	lateNoCert       = "no SSL certificate specified"
	lateNoCertTail   = " (use 'crt')"
	lateGenNoCA      = "cannot enable certificate generation, no CA certificate File configured"
)
