// Package h1diff holds the differential HTTP/1 message hygiene tests: a
// table of raw requests (and raw upstream responses) sent through gohap
// and through HAProxy 2.6 to the same strict recording upstream, and a
// fuzzer that does the same with mutated requests. The package has no
// code outside its tests; HAPROXY_BIN names the reference binary, and
// the tests skip when it is unset.
package h1diff
