package parser

// BindKeywordArgs is the number of words after each of HAProxy 2.6's
// bind keywords, for reading a bind line's options one by one.
var BindKeywordArgs = map[string]int{
	"accept-netscaler-cip": 1, "accept-proxy": 0, "allow-0rtt": 0, "alpn": 1, "backlog": 1,
	"ca-file": 1, "ca-ignore-err": 1, "ca-sign-file": 1, "ca-sign-pass": 1, "ca-verify-file": 1,
	"ciphers": 1, "ciphersuites": 1, "crl-file": 1, "crt-ignore-err": 1, "crt-list": 1, "crt": 1,
	"curves": 1, "defer-accept": 0, "ecdhe": 1, "expose-fd": 1, "force-sslv3": 0, "force-tlsv10": 0,
	"force-tlsv11": 0, "force-tlsv12": 0, "force-tlsv13": 0, "generate-certificates": 0, "gid": 1,
	"group": 1, "id": 1, "interface": 1, "level": 1, "maxconn": 1, "mode": 1, "mss": 1, "name": 1,
	"namespace": 1, "nice": 1, "no-ca-names": 0, "no-sslv3": 0, "no-tls-tickets": 0, "no-tlsv10": 0,
	"no-tlsv11": 0, "no-tlsv12": 0, "no-tlsv13": 0, "npn": 1, "prefer-client-ciphers": 0,
	"process": 1, "proto": 1, "quic-force-retry": 0, "severity-output": 1, "shards": 1,
	"ssl-max-ver": 1, "ssl-min-ver": 1, "ssl": 0, "strict-sni": 0, "tcp-ut": 1, "tfo": 0,
	"thread": 1, "tls-ticket-keys": 1, "transparent": 0, "uid": 1, "user": 1, "verify": 1,
	"v4v6": 0, "v6only": 0,
}
