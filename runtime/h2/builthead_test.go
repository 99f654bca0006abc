package h2

import (
	"fmt"
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
	// An HTTP/2 target may hold bytes the strict parser refuses (above
	// 0x7f, '#' in an authority): the lax one reads them.
	var want h1.Msg
	if err := h1.ParseRequest(out, &want, 1<<20); err != nil {
		if err := h1.ParseRequestLax(out, &want, 1<<20); err != nil {
			if m.Connect {
				// HAProxy's h2 layer takes a CONNECT target without a
				// port, which its HTTP/1 parser refuses.
				return true
			}
			t.Fatalf("built a head the parser refuses (%v):\n%s", err, out)
		}
	}
	// Values go out as they came, blanks and all; the parse trims them.
	ok = len(m.Headers) == len(want.Headers)
	for i := 0; ok && i < len(m.Headers); i++ {
		b, w := &m.Headers[i], &want.Headers[i]
		line := out[w.Name.End+2:]
		raw := line[:strings.Index(string(line), "\r\n")]
		same := b.Value == w.Value
		if want.Connect && strings.EqualFold(string(w.Name.Of(out)), "host") {
			// The HTTP/1 parser drops a CONNECT Host's default port;
			// HAProxy's h2 layer keeps it.
			same = string(b.Value.Of(out)) == string(raw)
		}
		ok = b.Name == w.Name && same && string(b.Out(out)) == string(raw)
	}
	mm, ww := m, want
	mm.Headers, ww.Headers = nil, nil
	if want.Connect {
		ww.Host = mm.Host
	}
	if u := want.URI.Of(out); len(u) > 0 && u[0] != '/' {
		// The h2 layer normalized the authority once already: parsing
		// its result may find it to normalize again (an authority "::").
		ww.PortCut, ww.NormHost = mm.PortCut, mm.NormHost
	}
	got, exp := fmt.Sprintf("%+v", mm), strings.Replace(fmt.Sprintf("%+v", ww), "lax:true", "lax:false", 1)
	if !ok || got != exp {
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
		{":method: GET\n:path: /\xc3\xa9\n:scheme: https\n:authority: example.com", true, true},
		{":method: GET\n:path: /\n:scheme: foo\n:authority: e#f", true, true},
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
