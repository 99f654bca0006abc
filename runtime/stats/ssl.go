package stats

// CertSource answers the "ssl cert" commands (src/ssl_ckch.c): verb is
// show, new, set, commit, abort or del, path the file argument, payload
// the text after "<<" (hasPayload tells an empty one from none).
type CertSource interface {
	CertCommand(verb, path, payload string, hasPayload bool) string
	// CAFileCommand is the same for "ssl ca-file", or with crl set
	// "ssl crl-file".
	CAFileCommand(crl bool, verb, path, payload string, hasPayload bool) string
	// CrtListCommand is "add|del|show ssl crt-list"; args are the words
	// after "crt-list".
	CrtListCommand(verb string, args []string, payload string, hasPayload bool) string
	// OCSPCommand is "show ssl ocsp-response [<id>]" or "set ssl
	// ocsp-response <base64>"; arg is the word after "ocsp-response".
	OCSPCommand(verb, arg, payload string, hasPayload bool) string
	// TLSKeysCommand is "show tls-keys [id|*]" (verb show, arg the word
	// after tls-keys) or "set ssl tls-key <id|file> <key>" (verb set).
	TLSKeysCommand(verb, arg, key string) string
}

// sslCommands are the certificate store's commands, with HAProxy 2.6's
// help lines.
func sslCommands() []command {
	return []command{
		{words: []string{"new", "ssl", "cert"}, usage: "new ssl cert <certfile>                 : create a new certificate file to be used in a crt-list or a directory", run: (*session).certCommand},
		{words: []string{"set", "ssl", "cert"}, usage: "set ssl cert <certfile> <payload>       : replace a certificate file", run: (*session).certCommand},
		{words: []string{"commit", "ssl", "cert"}, usage: "commit ssl cert <certfile>              : commit a certificate file", run: (*session).certCommand},
		{words: []string{"abort", "ssl", "cert"}, usage: "abort ssl cert <certfile>               : abort a transaction for a certificate file", run: (*session).certCommand},
		{words: []string{"del", "ssl", "cert"}, usage: "del ssl cert <certfile>                 : delete an unused certificate file", run: (*session).certCommand},
		{words: []string{"show", "ssl", "cert"}, usage: "show ssl cert [<certfile>]              : display the SSL certificates used in memory, or the details of a file", run: (*session).certCommand},
		{words: []string{"add", "ssl", "crt-list"}, usage: "add ssl crt-list <list> <cert> [opts]*  : add to crt-list file <list> a line <cert> or a payload", run: (*session).certCommand},
		{words: []string{"del", "ssl", "crt-list"}, usage: "del ssl crt-list <list> <cert[:line]>   : delete a line <cert> from crt-list file <list>", run: (*session).certCommand},
		{words: []string{"show", "ssl", "crt-list"}, usage: "show ssl crt-list [-n] [<list>]         : show the list of crt-lists or the content of a crt-list file <list>", run: (*session).certCommand},
		{words: []string{"new", "ssl", "ca-file"}, usage: "new ssl ca-file <cafile>                : create a new CA file to be used in a crt-list", run: (*session).certCommand},
		{words: []string{"set", "ssl", "ca-file"}, usage: "set ssl ca-file <cafile> <payload>      : replace a CA file", run: (*session).certCommand},
		{words: []string{"commit", "ssl", "ca-file"}, usage: "commit ssl ca-file <cafile>             : commit a CA file", run: (*session).certCommand},
		{words: []string{"abort", "ssl", "ca-file"}, usage: "abort ssl ca-file <cafile>              : abort a transaction for a CA file", run: (*session).certCommand},
		{words: []string{"del", "ssl", "ca-file"}, usage: "del ssl ca-file <cafile>                : delete an unused CA file", run: (*session).certCommand},
		{words: []string{"show", "ssl", "ca-file"}, usage: "show ssl ca-file [<cafile>[:<index>]]   : display the SSL CA files used in memory, or the details of a <cafile>, or a single certificate of index <index> of a CA file <cafile>", run: (*session).certCommand},
		{words: []string{"new", "ssl", "crl-file"}, usage: "new ssl crlfile <crlfile>               : create a new CRL file to be used in a crt-list", run: (*session).certCommand},
		{words: []string{"set", "ssl", "crl-file"}, usage: "set ssl crl-file <crlfile> <payload>    : replace a CRL file", run: (*session).certCommand},
		{words: []string{"commit", "ssl", "crl-file"}, usage: "commit ssl crl-file <crlfile>           : commit a CRL file", run: (*session).certCommand},
		{words: []string{"abort", "ssl", "crl-file"}, usage: "abort ssl crl-file <crlfile>            : abort a transaction for a CRL file", run: (*session).certCommand},
		{words: []string{"del", "ssl", "crl-file"}, usage: "del ssl crl-file <crlfile>              : delete an unused CRL file", run: (*session).certCommand},
		{words: []string{"set", "ssl", "ocsp-response"}, usage: "set ssl ocsp-response <resp|payload>    : update a certificate's OCSP Response from a base64-encode DER", run: (*session).ocspCommand},
		{words: []string{"show", "ssl", "ocsp-response"}, usage: "show ssl ocsp-response [id]             : display the IDs of the OCSP responses used in memory, or the details of a single OCSP response", run: (*session).ocspCommand},
		{words: []string{"show", "tls-keys"}, usage: "show tls-keys [id|*]                    : show tls keys references or dump tls ticket keys when id specified", run: (*session).tlsKeysCommand},
		{words: []string{"set", "ssl", "tls-key"}, usage: "set ssl tls-key [id|file] <key>         : set the next TLS key for the <id> or <file> listener to <key>", run: (*session).tlsKeysCommand},
		{words: []string{"show", "ssl", "crl-file"}, usage: "show ssl crl-file [<crlfile[:<index>>]] : display the SSL CRL files used in memory, or the details of a <crlfile>, or a single CRL of index <index> of CRL file <crlfile>", run: (*session).certCommand},
	}
}

// certCommand runs an "ssl cert|ca-file|crl-file" command: "show" at level operator (below,
// HAProxy 2.6 answers a memory error), the others at level admin.
func (ss *session) certCommand(args []string) bool {
	src, ok := ss.srv.src.(CertSource)
	if !ok {
		return false
	}
	verb := args[0]
	if args[2] == "crt-list" {
		// Every crt-list command is at level admin.
		if ss.level < LevelAdmin {
			ss.out.WriteString(permissionDenied)
			return false
		}
		ss.out.WriteString(src.CrtListCommand(verb, args[3:], ss.payload, ss.hasPayload))
		return false
	}
	if verb == "show" && ss.level < LevelOperator {
		ss.out.WriteString("Can't allocate memory!\n")
		return false
	}
	if verb != "show" && ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	switch args[2] {
	case "cert":
		ss.out.WriteString(src.CertCommand(verb, arg(args, 3), ss.payload, ss.hasPayload))
	default:
		ss.out.WriteString(src.CAFileCommand(args[2] == "crl-file", verb, arg(args, 3), ss.payload, ss.hasPayload))
	}
	return false
}

// ocspCommand runs "show|set ssl ocsp-response": HAProxy 2.6 checks no
// level for either.
func (ss *session) ocspCommand(args []string) bool {
	src, ok := ss.srv.src.(CertSource)
	if !ok {
		return false
	}
	ss.out.WriteString(src.OCSPCommand(args[0], arg(args, 3), ss.payload, ss.hasPayload))
	return false
}

// tlsKeysCommand runs "show tls-keys" and "set ssl tls-key": HAProxy 2.6
// checks no level for either.
func (ss *session) tlsKeysCommand(args []string) bool {
	src, ok := ss.srv.src.(CertSource)
	if !ok {
		return false
	}
	if args[0] == "show" {
		ss.out.WriteString(src.TLSKeysCommand("show", arg(args, 2), ""))
	} else {
		ss.out.WriteString(src.TLSKeysCommand("set", arg(args, 3), arg(args, 4)))
	}
	return false
}
