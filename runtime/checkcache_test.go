package runtime

import "testing"

// Backends that inherit their check rules share one compiled check; a
// backend with its own rules gets its own.
func TestInheritedChecksCompileOnce(t *testing.T) {
	g := compileText(t, `defaults
 mode http
 timeout connect 1s
 timeout client 1s
 timeout server 1s
 option httpchk GET /health
 http-check expect status 204
frontend fe
 bind 127.0.0.1:1
 default_backend a
backend a
 server s 127.0.0.1:1 check
backend b
 server s 127.0.0.1:1 check
backend c
 http-check expect status 200
 server s 127.0.0.1:1 check
`)
	chk := func(i int) any { return g.Backends[i].LB.Servers[0].Check.HTTP }
	if chk(0) == nil || chk(0) != chk(1) || chk(2) == chk(0) {
		t.Errorf("checks a %p, b %p, c %p: want a and b shared, c its own", chk(0), chk(1), chk(2))
	}
}
