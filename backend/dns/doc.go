// Package dns resolves server addresses at run time as HAProxy 2.6 does
// with a "resolvers" section (configuration.txt 5.3, src/resolvers.c and
// the srv_*/snr_* functions of src/server.c).
//
// A Resolver runs one section: it queries every nameserver for each name
// in use, every "timeout resolve", with HAProxy's query type fallback
// (AAAA then A, or the opposite), "resolve_retries" and "timeout retry".
// Servers Subscribe to a host name and receive Updates: address changes,
// and entering or leaving resolver maintenance once an error outlived its
// "hold" period. A TemplateSet does the same for the slots of a
// "server-template" fed by SRV records. Lookup serves "do-resolve".
// ShowResolvers renders the "show resolvers" CLI output.
//
// The package imports nothing else from this module; the backend wires it.
package dns
