// Package ssl turns HAProxy 2.6 TLS settings (the "ssl" options of "bind"
// lines, configuration.txt section 5.1, and of "server" lines, section 5.2,
// plus the ssl-default-* and tune.ssl.* global keywords) into crypto/tls
// configuration, interpreting them the way HAProxy 2.6 with OpenSSL 3.0 does.
//
// The bind side (LoadBindConfig) loads certificates from PEM files,
// directories and crt-list files, indexes their names the way
// ssl_sock_load_cert_sni does and picks the certificate for each ClientHello
// with HAProxy's SNI rules (exact names, then one-label wildcards, negative
// filters, ECDSA before RSA when the client supports it, the first
// certificate as the default unless strict-sni). Client certificates are
// verified with OpenSSL's error codes so that ssl_c_verify and the
// ca-ignore-err/crt-ignore-err lists behave the same.
//
// A certificate with a "<file>.ocsp" response staples it (ocsp.go): the
// response is keyed by the certificate's OCSP CertID, checked as
// ssl_sock_load_ocsp_response checks it, replaced over the CLI, and
// rendered in OpenSSL's OCSP_RESPONSE_print text (ocspprint.go).
//
// The server side (LoadServerConfig) builds the client configuration for a
// server with a per-server session cache.
//
// ConnInfo and the Cert helpers render the ssl_fc_*, ssl_c_* and ssl_f_*
// sample fetches with OpenSSL's spelling.
//
// What Go's TLS stack cannot do is refused with an error that names the
// limitation (see Limitation), or, when HAProxy would only lose an optional
// part of a list, reported in Warnings:
//   - TLS 1.3 cipher suites cannot be chosen: a "ciphersuites" list is
//     accepted when it contains every suite Go offers.
//   - DHE, CCM, CAMELLIA, ARIA, PSK and SRP suites do not exist in Go; they
//     are dropped from a "ciphers" list with a warning, and a list made only
//     of them is refused.
//   - NPN and SSLv3 are not available; generate-certificates reads an
//     unencrypted ca-sign-file key only (ca-sign-pass is refused); a
//     server's allow-0rtt is refused (Go's client sends no early data).
//   - Go's server has no session-ID resumption: under no-tls-tickets TLS
//     1.3 sessions resume through a cache of tune.ssl.cachesize entries
//     whose tickets are keys (OpenSSL's stateful tickets), TLS 1.2 ones do
//     not resume; tune.ssl.lifetime bounds sessions' age either way.
//   - tune.ssl.default-dh-param only matters for DHE, which Go lacks; it is
//     accepted, and gives HAProxy's warnings under OpenSSL 3's default
//     security level (a certificate's own group, ssl-dh-param-file's or
//     the 1024-bit default below 2048 bits: DH ciphers won't be
//     available), so the binds' messages are HAProxy's.
//   - The alert sent when strict-sni refuses a handshake is Go's
//     internal_error, not unrecognized_name.
package ssl
