package parser

import (
	"reflect"
	"strings"
	"testing"
)

func testEnv() *env {
	return newEnv(func(k string) (string, bool) {
		m := map[string]string{"FOO": "a b", "PORT": "8080", "EMPTY": ""}
		v, ok := m[k]
		return v, ok
	})
}

func TestSplitLine(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{"maxconn 4096 # Total Max Connections", []string{"maxconn", "4096"}, ""},
		{"  acl\tx  hdr(host) ", []string{"acl", "x", "hdr(host)"}, ""},
		{"abc#def", []string{"abc"}, ""},
		{`a\ b\#c \x41 \q`, []string{"a b#c", "A", `\q`}, ""},
		{`"x${FOO}y" $FOO '$FOO'`, []string{"xa by", "$FOO", "$FOO"}, ""},
		{`"${FOO[*]}" "${NOPE-dflt}z" "${NOPE}"`, []string{"a", "b", "dfltz", ""}, ""},
		{`"a"b"c" a"b c"d`, []string{"abc", "ab cd"}, ""},
		{`"\$FOO" "q\"q" 'it''s'`, []string{"$FOO", `q"q`, "its"}, ""},
		{"w1\tw2\r", []string{"w1", "w2"}, ""},
		{`"${.LINE}"`, []string{"7"}, ""},
		{`acl x "abc`, nil, "unmatched quote"},
		{`x '${FOO`, nil, "unmatched quote"},
		{`x "${FOO"`, nil, "unmatched brace in environment variable name"},
		{`x "$1"`, nil, "forbidden first char in environment variable name"},
		{`x \xZZ`, nil, "truncated or invalid hexadecimal sequence"},
		{`x "${FOO[x]}"`, nil, "truncated or invalid word expansion sequence"},
		{strings.Repeat("w ", 65), nil, "too many words"},
	}
	for _, c := range cases {
		got, _, err := splitLine([]byte(c.in), testEnv(), 7)
		if c.err != "" {
			if err == nil {
				t.Errorf("%q: no error, want %q", c.in, c.err)
				continue
			}
			d := err.diag([]byte(c.in), Pos{File: "f", Line: 7})
			if !strings.Contains(d.Msg, c.err) {
				t.Errorf("%q: error %q, want %q", c.in, d.Msg, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: unexpected error %q", c.in, err.msg)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestUnmatchedQuoteCaret(t *testing.T) {
	in := `  acl x "abc`
	_, _, err := splitLine([]byte(in), testEnv(), 1)
	d := err.diag([]byte(in), Pos{File: "t.cfg", Line: 11})
	if d.Text() != "parsing [t.cfg:11]: unmatched quote at position 9:" {
		t.Errorf("text %q", d.Text())
	}
	want := []string{`  acl x "abc`, "        ^"}
	if !reflect.DeepEqual(d.Detail, want) {
		t.Errorf("detail %q, want %q", d.Detail, want)
	}
}

func TestSetenvAppliesToLaterLines(t *testing.T) {
	cfg := "global\n setenv GOHAP_T1 hello\n presetenv FOO ignored\n.notice \"${GOHAP_T1} ${FOO}\"\n unsetenv FOO\n.notice \"[${FOO}]\"\n"
	_, diags := Parse([]Input{{Name: "e.cfg", Data: []byte(cfg)}}, Options{LookupEnv: testEnv().base})
	var got []string
	for _, d := range diags {
		got = append(got, d.Msg)
	}
	want := []string{"'hello a b'.", "'[]'."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestConditions(t *testing.T) {
	e := testEnv()
	cases := map[string]bool{
		"1": true, "0": false, "defined(FOO)": true, "defined(NOPE)": false, "!defined(NOPE)": true,
		"streq(a,a) && strneq(a,b)": true, "streq(a,b) || 1": true, "(0 || 1) && !0": true,
		"version_atleast(2.6)": true, "version_atleast(2.7)": false, "version_before(2.6.13)": true,
		"feature(PCRE2)": false, "feature(OPENSSL)": true, "feature(LUA)": false,
	}
	for expr, want := range cases {
		got, err := evalCond(strings.Fields(expr), e)
		if err != "" || got != want {
			t.Errorf("%s = %v (%q), want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{"(1", "1 &&", "defined(FOO", "1 )"} {
		if _, err := evalCond(strings.Fields(bad), e); err == "" {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTimeValues(t *testing.T) {
	cases := []struct {
		in  string
		ms  int64
		res timeResult
	}{
		{"86400000", 86400000, timeOK}, {"5s", 5000, timeOK}, {"2m", 120000, timeOK}, {"1h", 3600000, timeOK},
		{"1d", 86400000, timeOK}, {"1500us", 2, timeOK}, {"10ms", 10, timeOK},
		{"5S", 0, timeBadChar}, {"abc", 0, timeBadChar}, {"25d", 0, timeOverflow}, {"5us", 1, timeOK}, // parse_time_err rounds up
	}
	for _, c := range cases {
		d, res := parseTime(c.in)
		if res != c.res || (res == timeOK && d.Milliseconds() != c.ms) {
			t.Errorf("%s: %v %v, want %dms %v", c.in, d, res, c.ms, c.res)
		}
	}
}

func TestBestMatch(t *testing.T) {
	// default_frontend is as close to frontend as to default_backend:
	// HAProxy offers the one it tries first.
	cases := map[string]string{"reqisetbe": "retries", "retriez": "retries", ";": "", "defaultbackend": "default_backend", "default_frontend": "frontend"}
	for in, want := range cases {
		if got := bestMatch(in, proxyCandidates()); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
	if got := bestMatch("debug", globalCandidates()); got != "" {
		t.Errorf("debug: %q, want none", got)
	}
	if got := bestMatch("tcpsplice", optionCandidates); got != "splice-auto" {
		t.Errorf("tcpsplice: %q", got)
	}
}
