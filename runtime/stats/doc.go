// Package stats serves HAProxy's runtime CLI on the "stats socket"
// addresses (configuration.txt 3.1, management.txt 9.3): unix sockets,
// inherited listening sockets ("fd@N") and TCP addresses, each with its
// access level. Requests are read as HAProxy 2.6's cli.c reads them:
// commands end at a newline or an unescaped ';', words are split on
// spaces and tabs with '\' escapes, every answer ends with an empty line,
// and a connection not in prompt mode is closed once the pending commands
// are answered.
//
// The package knows nothing of the proxy: what the commands report comes
// from a Source, which the runtime implements over its graph.
package stats
