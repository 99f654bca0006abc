package main

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
)

// sampleFetches and sampleConvs are the pieces of the random expressions
// TestDifferentialSampleExprs builds; %s is an argument list.
var (
	sampleFetches = []string{"path", "src", "req.hdr(%s)", "str(%s)", "int(%s)", "base", "url_param(%s)", "var(%s)"}
	sampleConvs   = []string{"lower", "upper(%s)", "field(%s)", "word(%s)", "regsub(%s)", "ipmask(%s)", "bytes(%s)",
		"add(%s)", "sub(%s)", "mul(%s)", "div(%s)", "json(%s)", "base64", "hex", "length", "djb2(%s)",
		"crc32(%s)", "ltime(%s)", "concat(%s)", "be2dec(%s)", "digest(%s)", "hmac(%s)", "sdbm(%s)",
		"wt6(%s)", "strcmp(%s)", "secure_memcmp(%s)", "xor(%s)", "and(%s)", "protobuf(%s)", "ungrpc(%s)",
		"nosuch(%s)", "url_dec(%s)", "htonl", "bool", "not", "neg", "cpl", "even", "odd", "table_gpc0(%s)"}
	sampleArgs = []string{"", "1", "a", "-1", "0", "33", "1,2", "a,b", "1,a", "a,1", "1,2,3", "x{", "a(b,c",
		"a,c,q", "a,c,i", "utf8", "utf8ps", "txn.x", "sess.y", "255.255.0.0", "24,64", "99999999999",
		"%Y", ",", "1,,", "sha256", "sha256,a", "1:2", "\"a b\"", "'a'"}
)

func randSampleExpr(r *rand.Rand) string {
	pick := func(l []string) string {
		s := l[r.Intn(len(l))]
		if strings.Contains(s, "%s") {
			s = fmt.Sprintf(s, sampleArgs[r.Intn(len(sampleArgs))])
		}
		return s
	}
	e := pick(sampleFetches)
	for n := r.Intn(3); n >= 0; n-- {
		e += "," + pick(sampleConvs)
	}
	return e
}

// TestDifferentialSampleExprs compares the messages for random sample
// expressions (fetches, converters and their arguments) in the places
// that parse one: a log-format string in an http-request rule, an
// http-request and a tcp-request set-var expression, a stick rule.
// SAMPLE_SEED picks another set; GOHAP_FULL_DIFF=1 tries more.
func TestDifferentialSampleExprs(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	seed := int64(1)
	if s := os.Getenv("SAMPLE_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	n := 60
	if os.Getenv("GOHAP_FULL_DIFF") == "1" {
		n = 400
	}
	r := rand.New(rand.NewSource(seed))
	places := []struct{ head, rule string }{
		{condFE, "http-request set-header x a%%[%s]b"},
		{condFE, "http-request set-var(txn.v) %s"},
		{condFE, "tcp-request content set-var(txn.v) %s"},
		{condBE, "stick on %s"},
	}
	var lines []struct{ head, line string }
	for i := 0; i < n; i++ {
		e := randSampleExpr(r)
		p := places[i%len(places)]
		lines = append(lines, struct{ head, line string }{p.head, fmt.Sprintf(p.rule, e)})
	}
	agree := diffLines(t, bin, lines)
	t.Logf("sample expressions with HAProxy's messages and exit code: %d/%d agree", agree, len(lines))
	fmt.Printf("differential sample expressions: %d/%d agree\n", agree, len(lines))
}
