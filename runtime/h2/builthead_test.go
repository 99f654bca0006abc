package h2

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/gohap/gohap/runtime/h1"
)

// fieldsOf reads a header list written one "name: value" per line.
func fieldsOf(s string) []hpack.HeaderField {
	var hf []hpack.HeaderField
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			continue
		}
		i := strings.Index(l[1:], ":") + 1
		if i <= 0 {
			hf = append(hf, hpack.HeaderField{Name: l})
			continue
		}
		hf = append(hf, hpack.HeaderField{Name: l[:i], Value: strings.TrimPrefix(l[i+1:], " ")})
	}
	return hf
}

// checkBuilt converts hf and, when the head came with its parse, wants
// that parse to be h1.ParseRequest's of the same bytes. It reports
// whether it was built.
func checkBuilt(t *testing.T, hf []hpack.HeaderField, end bool) bool {
	t.Helper()
	var ri reqInfo
	var m h1.Msg
	out, ok := appendRequest(nil, hf, end, &ri, "", &m)
	if !ok || !ri.built {
		return false
	}
	var want h1.Msg
	if err := h1.ParseRequest(out, &want, 1<<20); err != nil {
		t.Fatalf("built a head the parser refuses (%v):\n%s", err, out)
	}
	if len(m.Headers) == 0 {
		m.Headers = want.Headers[:0]
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("built head differs from its parse:\n%s\nbuilt %+v\nparse %+v", out, m, want)
	}
	return true
}

func TestBuiltHeadMatchesParse(t *testing.T) {
	cases := []struct {
		hdrs  string
		end   bool
		built bool
	}{
		{":method: GET\n:path: /\n:scheme: https\n:authority: example.com\nuser-agent: h2load\naccept: */*", true, true},
		{":method: POST\n:path: /up?a=1\n:scheme: http\n:authority: example.com:80\ncontent-length: 5", false, true},
		{":method: POST\n:path: /up\n:scheme: https\n:authority: a", false, true},
		{":method: GET\n:path: /\n:scheme: https\nhost: b\ncookie: a=1\ncookie: b=2\nx:  padded \t", true, true},
		{":method: CONNECT\n:authority: example.com:443", false, true},
		{":method: CONNECT\n:protocol: websocket\n:path: /ws\n:scheme: https\n:authority: example.com", false, true},
		{":method: OPTIONS\n:path: *\n:scheme: https\n:authority: example.com", true, true},
		{":method: GET\n:path: /\n:scheme: foo\n:authority: example.com", true, true},
		{":method: GET\n:path: /a#b\n:scheme: https\n:authority: example.com", true, false},
		{":method: GET\n:path: /\xc3\xa9\n:scheme: https\n:authority: example.com", true, false},
		{":method: PRI\n:path: /\n:scheme: https\n:authority: example.com", true, false},
		{":method: G(T\n:path: /\n:scheme: https\n:authority: example.com", true, false},
		{":method: GET\n:path: /\n:scheme: https\n:authority: example.com\nexpect: 100-continue\ncontent-length: 0", false, true},
		{":method: GET\n:path: /\n:scheme: https\n:authority: example.com\nx-Zed: 1", true, true},
	}
	var ri reqInfo
	if out, _ := appendRequest(nil, fieldsOf(cases[len(cases)-1].hdrs), true, &ri, "", nil); !strings.Contains(string(out), "\r\nx-zed: 1\r\n") {
		t.Errorf("a name's Z goes out lower case:\n%s", out)
	}
	for _, c := range cases {
		if got := checkBuilt(t, fieldsOf(c.hdrs), c.end); got != c.built {
			t.Errorf("built %v, want %v for\n%s", got, c.built, c.hdrs)
		}
	}
}

// FuzzBuiltHead wants every head that comes with its parse to come with
// the parser's own.
func FuzzBuiltHead(f *testing.F) {
	f.Add(":method: GET\n:path: /\n:scheme: https\n:authority: example.com\nuser-agent: x", true)
	f.Add(":method: POST\n:path: /p\n:scheme: http\n:authority: h:80\ncontent-length: 3\nhost: h", false)
	f.Add(":method: CONNECT\n:protocol: websocket\n:path: /ws\n:scheme: https\n:authority: a\ncookie: x\ncookie: y", false)
	f.Fuzz(func(t *testing.T, hdrs string, end bool) {
		checkBuilt(t, fieldsOf(hdrs), end)
	})
}
