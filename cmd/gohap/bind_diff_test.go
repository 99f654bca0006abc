package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// bindOptionForms are the options of a bind line tried after its address:
// each HAProxy 2.6 bind keyword without its argument, with bad, out of
// range and well formed values, with a word too many, and misspelt.
var bindOptionForms = strings.Split(`accept-proxy
accept-proxy x
accept-netscaler-cip
accept-netscaler-cip x
accept-netscaler-cip 1234
accept-netscaler-cip -1
alpn
alpn h2,http/1.1
alpn ,
backlog
backlog x
backlog 10
backlog -1
backlog 0
defer-accept
defer-accept x
expose-fd
expose-fd listeners
expose-fd x
id
id x
id 0
id -1
id 5
id 5 id 6
interface
interface lo
namespace
namespace gohap-no-such-ns
level
level admin
level x
maxconn
maxconn x
maxconn -1
maxconn 10
mss
mss x
mss 0
mss 70000
mss 1400
mode
mode 0600
mode x
name
name n1
namespace
nice
nice x
nice 2000
nice -2000
nice 10
npn
npn h2
process
process x
process 1
process 2
process 1-2
process all
process odd
process 0
process 1/1
process 1/x
proto
proto h2
proto nosuch
severity-output
severity-output number
severity-output x
shards
shards x
shards 1
shards 0
shards by-thread
tcp-ut
tcp-ut x
tcp-ut 10s
tfo
tfo x
thread
thread x
thread 1
thread 0
thread 2
thread 1-2
thread all
thread 1/1
thread 2/1
thread 1/x
transparent
transparent x
v4v6
v6only
v6only x
uid
uid x
uid 0
gid
gid x
user
user nosuchuserx
group
group nosuchgroupx
ssl
ssl x
crt
crt /nonexistent/gohap.pem
crt-list
ca-file
ca-file /nonexistent/gohap.pem
ciphers
ciphersuites
curves
ecdhe
crl-file
verify
verify x
verify none
ssl-min-ver
ssl-min-ver x
ssl-min-ver TLSv1.2
ssl-max-ver
ssl-max-ver TLSv1.9
force-tlsv12
no-tlsv10
no-sslv3
strict-sni
prefer-client-ciphers
no-tls-tickets
no-ca-names
allow-0rtt
generate-certificates
ca-sign-file
ca-sign-pass
ca-ignore-err
crt-ignore-err
tls-ticket-keys
quic-force-retry
acept-proxy
maxcon 10
bogus
tfo tfo
x y z
crt-list /nonexistent/gohap
crl-file /nonexistent/gohap.pem
ca-verify-file /nonexistent/gohap.pem
tls-ticket-keys /nonexistent/gohap
accept-netscaler-cip 0
accept-netscaler-cip 4294967296
alpn h2 x
id 2147483648
id 99999999999999999999
id 7 name
thread 1-
thread 1/1 thread 1/2
thread 1 thread 1/1
thread 65
thread 1/1 thread 2
process even
process 1/65
process 1/1-2
tcp-ut 99999999999
tcp-ut 10x
tcp-ut 1d
shards 65
shards 64
backlog 0
backlog x
level operator
severity-output string
proto h1
ssl-min-ver TLSv1.0
verify required
nice -1024
maxconn 0
mss -1400
quic-force-retry x`, "\n")

// TestDifferentialBindOptions runs haproxy -c and gohap check on bind
// lines carrying each option form, in a frontend and as a second bind,
// and compares exit codes and every ALERT and WARNING line.
func TestDifferentialBindOptions(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	var lines []struct{ head, line string }
	for _, o := range bindOptionForms {
		lines = append(lines,
			struct{ head, line string }{"frontend fe\n", "bind 127.0.0.1:8080 " + o},
			struct{ head, line string }{"frontend fe\n  bind 127.0.0.1:8081 id 5 name n1\n", "bind 127.0.0.1:8080 " + o})
	}
	for _, l := range []string{"bind 127.0.0.1:8080,127.0.0.1:8090 id 3", "bind 127.0.0.1:8080-8082 id 3",
		"bind 127.0.0.1:8080-8082 name n", "bind 127.0.0.1:8080,127.0.0.1:8090 bogus"} {
		lines = append(lines, struct{ head, line string }{"frontend fe\n", l})
	}
	agree := diffLines(t, bin, lines)
	// The options of a stats socket are bind options too (cli.c).
	dir := t.TempDir()
	var cfgs []struct{ name, cfg string }
	for _, o := range append(bindOptionForms, "id 3 id 4", "level admin expose-fd listeners", "mode 600 level user") {
		if strings.HasPrefix(o, "proto ") {
			// Whether the CLI may use a mux is checked after parsing.
			continue
		}
		line := "stats socket " + filepath.Join(dir, "s.sock") + " " + o
		cfgs = append(cfgs, struct{ name, cfg string }{line, "global\n  " + line +
			"\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend fe\n  bind 127.0.0.1:8080\n"})
	}
	// So are those of a peers section's bind line.
	for _, o := range bindOptionForms {
		line := "bind 127.0.0.1:10000 " + o
		cfgs = append(cfgs, struct{ name, cfg string }{"peers: " + line,
			"defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend fe\n  bind 127.0.0.1:8080\npeers p\n  " + line + "\n"})
	}
	agree += diffConfigs(t, bin, cfgs)
	total := len(lines) + len(cfgs)
	t.Logf("bind, stats socket and peers bind option forms with HAProxy's messages and exit code: %d/%d agree", agree, total)
	fmt.Printf("differential bind options: %d/%d agree\n", agree, total)
}
