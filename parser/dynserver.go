package parser

import "strings"

// notDynamic are the server keywords HAProxy 2.6 refuses on "add server"
// (srv_kws entries without dynamic_ok).
var notDynamic = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`cookie init-addr log-proto max-reuse namespace non-stick redir resolve-net
resolve-opts resolve-prefer resolvers stick socks4 no-check-ssl no-send-proxy-v2-ssl no-send-proxy-v2-ssl-cn
no-ssl ssl-reuse no-agent-check no-check no-check-send-proxy interface`) {
		notDynamic[k] = true
	}
}

// DynamicServer reads "add server <b>/<name> <addr> [options]" from its
// <addr> on (words) as HAProxy's cli_parse_add_server does: with the
// server keyword table, without the default-server settings (a dynamic
// server starts from weight 1 and the default check timings). It returns
// HAProxy's message when the words are refused.
func DynamicServer(name string, words []string) (*Server, string) {
	if len(words) == 0 || words[0] == "" {
		return nil, "'server' expects <name> and <addr>[:<port>] as arguments."
	}
	opts := words[1:]
	for i := 0; i < len(opts); i++ {
		n, ok := serverKeywords[opts[i]]
		if !ok {
			break
		}
		if notDynamic[opts[i]] {
			return nil, "'" + opts[i] + "' option is not accepted for dynamic server"
		}
		i += n
	}
	if msg := checkServerOptions(name, opts, false); msg != "" {
		msg, _, _ = strings.Cut(msg, "\x00")
		return nil, msg
	}
	if checked, tracks := serverCheckAndTrack(opts); checked && tracks {
		return nil, "unable to enable checks and tracking at the same time!"
	}
	s := &Server{Name: name, Address: words[0], Options: opts, Settings: defaultServerSettings()}
	s.Settings.apply(opts)
	if s.Settings.agentPortless() {
		return nil, "server " + name + " does not have agent port. Agent check has been disabled."
	}
	return s, ""
}
