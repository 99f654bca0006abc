package stats

// CertSource answers the "ssl cert" commands (src/ssl_ckch.c): verb is
// show, new, set, commit, abort or del, path the file argument, payload
// the text after "<<" (hasPayload tells an empty one from none).
type CertSource interface {
	CertCommand(verb, path, payload string, hasPayload bool) string
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
	}
}

// certCommand runs an "ssl cert" command: "show" at level operator (below,
// HAProxy 2.6 answers a memory error), the others at level admin.
func (ss *session) certCommand(args []string) bool {
	src, ok := ss.srv.src.(CertSource)
	if !ok {
		return false
	}
	verb := args[0]
	if verb == "show" && ss.level < LevelOperator {
		ss.out.WriteString("Can't allocate memory!\n")
		return false
	}
	if verb != "show" && ss.level < LevelAdmin {
		ss.out.WriteString(permissionDenied)
		return false
	}
	ss.out.WriteString(src.CertCommand(verb, arg(args, 3), ss.payload, ss.hasPayload))
	return false
}
