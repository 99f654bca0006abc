package acl

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every request of HAProxy's reg-tests/http-rules/normalize_uri.vtc: the
// normalize-uri arguments, the request target, the target after the
// rule, the status (400 for a strict normalizer's refusal).
var normVTC = []struct {
	norm, uri, want string
	status          int
}{
	{"path-merge-slashes", "/foo/bar", "/foo/bar", 200},
	{"path-merge-slashes", "/foo//bar", "/foo/bar", 200},
	{"path-merge-slashes", "/foo///bar", "/foo/bar", 200},
	{"path-merge-slashes", "///foo///bar", "/foo/bar", 200},
	{"path-merge-slashes", "///foo/bar", "/foo/bar", 200},
	{"path-merge-slashes", "///foo///bar///", "/foo/bar/", 200},
	{"path-merge-slashes", "///", "/", 200},
	{"path-merge-slashes", "/foo?bar=///", "/foo?bar=///", 200},
	{"path-merge-slashes", "//foo?bar=///", "/foo?bar=///", 200},
	{"path-merge-slashes", "*", "*", 200},
	{"path-strip-dotdot", "/foo/bar", "/foo/bar", 200},
	{"path-strip-dotdot full", "/foo/bar", "/foo/bar", 200},
	{"path-strip-dotdot", "/foo/..", "/", 200},
	{"path-strip-dotdot full", "/foo/..", "/", 200},
	{"path-strip-dotdot", "/foo/../", "/", 200},
	{"path-strip-dotdot full", "/foo/../", "/", 200},
	{"path-strip-dotdot", "/foo/bar/../", "/foo/", 200},
	{"path-strip-dotdot full", "/foo/bar/../", "/foo/", 200},
	{"path-strip-dotdot", "/foo/../bar", "/bar", 200},
	{"path-strip-dotdot full", "/foo/../bar", "/bar", 200},
	{"path-strip-dotdot", "/foo/../bar/", "/bar/", 200},
	{"path-strip-dotdot full", "/foo/../bar/", "/bar/", 200},
	{"path-strip-dotdot", "/foo/../../bar/", "/../bar/", 200},
	{"path-strip-dotdot full", "/foo/../../bar/", "/bar/", 200},
	{"path-strip-dotdot", "/foo//../../bar/", "/bar/", 200},
	{"path-strip-dotdot full", "/foo//../../bar/", "/bar/", 200},
	{"path-strip-dotdot", "/foo/?bar=/foo/../", "/foo/?bar=/foo/../", 200},
	{"path-strip-dotdot full", "/foo/?bar=/foo/../", "/foo/?bar=/foo/../", 200},
	{"path-strip-dotdot", "/foo/../?bar=/foo/../", "/?bar=/foo/../", 200},
	{"path-strip-dotdot full", "/foo/../?bar=/foo/../", "/?bar=/foo/../", 200},
	{"path-strip-dotdot", "*", "*", 200},
	{"path-strip-dotdot full", "*", "*", 200},
	{"query-sort-by-name", "/?a=a", "/?a=a", 200},
	{"query-sort-by-name", "/?a=a&z=z", "/?a=a&z=z", 200},
	{"query-sort-by-name", "/?z=z&a=a", "/?a=a&z=z", 200},
	{"query-sort-by-name", "/?a=z&z=a", "/?a=z&z=a", 200},
	{"query-sort-by-name", "/?z=a&a=z", "/?a=z&z=a", 200},
	{"query-sort-by-name", "/?c&b&a&z&x&y", "/?a&b&c&x&y&z", 200},
	{"query-sort-by-name", "/?a=&aa=&aaa=&aaaa=", "/?a=&aa=&aaa=&aaaa=", 200},
	{"query-sort-by-name", "/?aaaa=&a=&aa=&aaa=", "/?a=&aa=&aaa=&aaaa=", 200},
	{"query-sort-by-name", "/?a=5&a=3&a=1&a=2&a=4", "/?a=5&a=3&a=1&a=2&a=4", 200},
	{"query-sort-by-name", "/?a=5&b=3&a=1&a=2&b=4", "/?a=5&a=1&a=2&b=3&b=4", 200},
	{"query-sort-by-name", "/", "/", 200},
	{"query-sort-by-name", "/?", "/?", 200},
	{"query-sort-by-name", "*", "*", 200},
	{"percent-to-uppercase", "/a?a=a", "/a?a=a", 200},
	{"percent-to-uppercase", "/%aa?a=%aa", "/%AA?a=%AA", 200},
	{"percent-to-uppercase", "/%zz?a=%zz", "/%zz?a=%zz", 200},
	{"percent-to-uppercase", "*", "*", 200},
	{"percent-to-uppercase strict", "/a?a=a", "/a?a=a", 200},
	{"percent-to-uppercase strict", "/%aa?a=%aa", "/%AA?a=%AA", 200},
	{"percent-to-uppercase strict", "/%zz?a=%zz", "", 400},
	{"path-strip-dot", "/", "/", 200},
	{"path-strip-dot", "/a/b", "/a/b", 200},
	{"path-strip-dot", "/.", "/", 200},
	{"path-strip-dot", "/./", "/", 200},
	{"path-strip-dot", "/a/.", "/a/", 200},
	{"path-strip-dot", "/a.", "/a.", 200},
	{"path-strip-dot", "/.a", "/.a", 200},
	{"path-strip-dot", "/a/.", "/a/", 200},
	{"path-strip-dot", "/a/./", "/a/", 200},
	{"path-strip-dot", "/a/./a", "/a/a", 200},
	{"path-strip-dot", "/a/../", "/a/../", 200},
	{"path-strip-dot", "/a/../a", "/a/../a", 200},
	{"path-strip-dot", "/?a=/./", "/?a=/./", 200},
	{"percent-decode-unreserved", "/a?a=a", "/a?a=a", 200},
	{"percent-decode-unreserved", "/%61?%61=%61", "/a?a=a", 200},
	{"percent-decode-unreserved", "/%3F?foo=bar", "/%3F?foo=bar", 200},
	{"percent-decode-unreserved", "/%%36%36", "/%66", 200},
	{"percent-decode-unreserved", "*", "*", 200},
	{"percent-decode-unreserved strict", "/a?a=a", "/a?a=a", 200},
	{"percent-decode-unreserved strict", "/%61?%61=%61", "/a?a=a", 200},
	{"percent-decode-unreserved strict", "/%3F?foo=bar", "/%3F?foo=bar", 200},
	{"percent-decode-unreserved strict", "/%%36%36", "", 400},
	{"fragment-strip", "/#foo", "/", 200},
	{"fragment-strip", "/%23foo", "/%23foo", 200},
	{"fragment-strip", "*", "*", 200},
	{"fragment-encode", "/#foo", "/%23foo", 200},
	{"fragment-encode", "/#foo/#foo", "/%23foo/%23foo", 200},
	{"fragment-encode", "/%23foo", "/%23foo", 200},
	{"fragment-encode", "*", "*", 200},
	// fe_fragment_block: "/#foo" is refused by the request parser (400) before any rule
}

func normalize(t testing.TB, norm, uri string) (string, error) {
	t.Helper()
	n, used, err := ParseURINormalizer(strings.Fields(norm))
	if err != nil || used != len(strings.Fields(norm)) {
		t.Fatalf("%s: %v (%d words)", norm, err, used)
	}
	out, ok, err := NormalizeURI(nil, []byte(uri), n)
	if !ok && err == nil {
		return uri, nil
	}
	return string(out), err
}

func TestNormalizeURIRegTest(t *testing.T) {
	for _, c := range normVTC {
		got, err := normalize(t, c.norm, c.uri)
		if c.status == 400 {
			if !errors.Is(err, ErrURIInvalid) {
				t.Errorf("%s %q: %q %v, want a 400 refusal", c.norm, c.uri, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.norm, c.uri, got, err, c.want)
		}
	}
	t.Logf("%d cases of normalize_uri.vtc", len(normVTC))
}

// normMore covers what the reg-test does not: absolute URIs, the query
// replaced after the target's first '?', empty and repeated parameters,
// "/.." with nothing to remove, strict refusals at the end of the target.
var normMore = []struct{ norm, uri, want string }{
	{"path-merge-slashes", "http://h//a//b?x//y", "http://h/a/b?x//y"},
	{"path-merge-slashes", "http://h", "http://h"},
	{"path-merge-slashes", "h:80", "h:80"},
	{"path-merge-slashes", "1http://h//a", "1http://h//a"},
	{"path-strip-dot", "http://h/./a/.?/./", "http://h/a/?/./"},
	{"path-strip-dot", "/..", "/.."},
	{"path-strip-dot", "/.//.", "//"},
	{"path-strip-dotdot", "/..", "/../"},
	{"path-strip-dotdot full", "/..", "/"},
	{"path-strip-dotdot", "/../../a/..", "/../../"},
	{"path-strip-dotdot", "/a/b/c/../../d", "/a/d"},
	{"path-strip-dotdot", "a/../b", "a/../b"},
	{"path-strip-dotdot", "http://h/a/../../b?c/../", "http://h/../b?c/../"},
	{"query-sort-by-name", "/?b&a&", "/?a&b"},
	{"query-sort-by-name", "/?&&b&a", "/?&&a&b"},
	{"query-sort-by-name", "/?b=1#x&a=2", "/?a=2&b=1#x"},
	{"query-sort-by-name", "http://h?x/p?b&a", "http://h?a&b"},
	{"query-sort-by-name", "http://h?x/p", "http://h?"},
	{"query-sort-by-name", "/?ab&a&a=&b", "/?a&a=&ab&b"},
	{"percent-to-uppercase", "/%af%Bc%1?%e", "/%AF%BC%1?%e"},
	{"percent-decode-unreserved", "/%7e%2F%41%5f%2d%2E%30%", "/~%2FA_-.0%"},
	{"fragment-strip", "/a?b#c#d", "/a?b"},
	{"fragment-encode", "/a?b#c#", "/a?b%23c%23"},
	{"fragment-encode", "*", "*"},
}

func TestNormalizeURIMore(t *testing.T) {
	for _, c := range normMore {
		if got, err := normalize(t, c.norm, c.uri); err != nil || got != c.want {
			t.Errorf("%s %q: %q %v, want %q", c.norm, c.uri, got, err, c.want)
		}
	}
	for _, c := range []struct{ norm, uri string }{
		{"percent-to-uppercase strict", "/a%2"},
		{"percent-to-uppercase strict", "/a?%"},
		{"percent-decode-unreserved strict", "/a%g1"},
	} {
		if _, err := normalize(t, c.norm, c.uri); !errors.Is(err, ErrURIInvalid) {
			t.Errorf("%s %q: %v, want a refusal", c.norm, c.uri, err)
		}
	}
	// A result larger than a buffer is a resource error.
	long := "/" + strings.Repeat("#", 6000)
	if _, err := normalize(t, "fragment-encode", long); !errors.Is(err, ErrURITooLong) {
		t.Errorf("fragment-encode of 6000 '#': %v", err)
	}
	many := "/?" + strings.Repeat("a&", normMaxParams) + "b"
	if _, err := normalize(t, "query-sort-by-name", many); !errors.Is(err, ErrURITooLong) {
		t.Errorf("%d parameters: %v", normMaxParams+1, err)
	}
	if got, err := normalize(t, "query-sort-by-name", "/?"+strings.Repeat("b&", normMaxParams-1)+"a"); err != nil || !strings.HasPrefix(got, "/?a&b&") {
		t.Errorf("%d parameters: %.20q %v", normMaxParams, got, err)
	}
}

func TestParseURINormalizer(t *testing.T) {
	for _, c := range []struct {
		words string
		want  URINormalizer
		used  int
		err   string
	}{
		{"path-strip-dotdot full if TRUE", NormPathStripDotdotFull, 2, ""},
		{"path-strip-dotdot", NormPathStripDotdot, 1, ""},
		{"percent-to-uppercase strict", NormPercentToUppercaseStrict, 2, ""},
		{"percent-decode-unreserved unless FALSE", NormPathMergeSlashes, 1, ""},
		{"query-sort-by-name if TRUE", NormQuerySortByName, 1, ""},
		{"fragment-encode", NormFragmentEncode, 1, ""},
		{"", 0, 0, "missing argument <normalizer>"},
		{"path-strip-dotdot fulll", 0, 0, "unknown argument 'fulll' for 'path-strip-dotdot' normalizer"},
		{"percent-to-uppercase x", 0, 0, "unknown argument 'x' for 'percent-to-uppercase' normalizer"},
		{"nope", 0, 0, "unknown normalizer 'nope'"},
	} {
		n, used, err := ParseURINormalizer(strings.Fields(c.words))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: %v, want %s", c.words, err, c.err)
			}
			continue
		}
		if err != nil || n != c.want || used != c.used {
			t.Errorf("%q: %v %d %v, want %v %d", c.words, n, used, err, c.want, c.used)
		}
	}
}

func TestNormalizeURIAllocs(t *testing.T) {
	dst := make([]byte, 0, 256)
	uris := [][]byte{[]byte("/a//b/./c/../d?z=1&b=2&a=%7e#f"), []byte("http://h/x/../y?b&a")}
	for n := URINormalizer(0); n < nNormalizers; n++ {
		for _, u := range uris {
			if a := testing.AllocsPerRun(50, func() { dst, _, _ = NormalizeURI(dst[:0], u, n) }); a != 0 {
				t.Errorf("%v %s: %v allocations", n, u, a)
			}
		}
	}
}

func FuzzNormalizeURI(f *testing.F) {
	for _, c := range normVTC {
		f.Add(c.uri, uint8(0))
	}
	for _, c := range normMore {
		f.Add(c.uri, uint8(3))
	}
	f.Fuzz(func(t *testing.T, uri string, k uint8) {
		n := URINormalizer(k % uint8(nNormalizers))
		out, ok, err := NormalizeURI([]byte("pre"), []byte(uri), n)
		if string(out[:3]) != "pre" {
			t.Fatalf("dst prefix lost")
		}
		if !ok && err == nil && len(out) != 3 {
			t.Errorf("unchanged target but output %q", out)
		}
		if ok && len(out)-3 > len(uri)+1 && n != NormFragmentEncode {
			t.Errorf("%v: %q grew to %q", n, uri, out[3:])
		}
	})
}

// normDiffURIs are sent to haproxy for the differential test.
var normDiffURIs = []string{
	"/a//b/./c/../d?z=1&b=2&a=%7e#f", "/%61%7E%7e%2f%25?%61=%zz", "/../../x/..", "/..", "/.", "//", "/",
	"/?b&a&", "/?&&b&a", "/?b=1#x&a=2", "/?ab&a&a=&b", "http://h//a/../b/./c?y&x", "http://h",
	"http://h?x/p?b&a", "http://h?x/p", "h:80", "*", "/a#b#c", "/%AF%af%1", "/a%", "/a%2", "/%g1",
	"/x/y/z/../../../../..", "/a/./b/../c/.", "/a?%41=%2e", "/%%41", "//a//../b",
}

// TestNormalizeURIDifferential runs every normalizer on normDiffURIs in
// haproxy (http-request normalize-uri then return the url) and here.
func TestNormalizeURIDifferential(t *testing.T) {
	bin := haproxyBin()
	if _, err := os.Stat(bin); err != nil {
		t.Skip("haproxy not installed")
	}
	norms := []string{"", "path-merge-slashes", "path-strip-dot", "path-strip-dotdot", "path-strip-dotdot full",
		"query-sort-by-name", "percent-to-uppercase", "percent-to-uppercase strict", "percent-decode-unreserved",
		"percent-decode-unreserved strict", "fragment-strip", "fragment-encode",
		"path-strip-dotdot if TRUE", "percent-to-uppercase if TRUE"}
	var cfg strings.Builder
	cfg.WriteString("global\n  expose-experimental-directives\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n")
	ports := make([]int, len(norms))
	files := make([]*os.File, len(norms))
	for i, n := range norms {
		ports[i], files[i] = inheritedListener(t)
		fmt.Fprintf(&cfg, "frontend fe%d\n  bind fd@%d\n  option accept-invalid-http-request\n", i, 3+i)
		if n != "" {
			fmt.Fprintf(&cfg, "  http-request normalize-uri %s\n", n)
		}
		cfg.WriteString("  http-request return status 200 hdr x-url \"<%[url]>\"\n")
	}
	path := filepath.Join(t.TempDir(), "n.cfg")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	startHAProxyFDs(t, bin, path, files)
	compared := 0
	for _, uri := range normDiffURIs {
		// The control frontend has no rule: a target haproxy refuses is
		// not the normalizers' business.
		if st, _ := normAsk(t, ports[0], uri); st != 200 {
			continue
		}
		for i, n := range norms[1:] {
			st, url := normAsk(t, ports[i+1], uri)
			words := strings.Fields(n)
			k, _, err := ParseURINormalizer(words)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			out, ok, err := NormalizeURI(nil, []byte(uri), k)
			got, gst := string(out), 200
			if !ok {
				got = uri
			}
			switch {
			case errors.Is(err, ErrURIInvalid):
				gst, got = 400, ""
			case err != nil:
				gst, got = 500, ""
			}
			if gst != st || gst == 200 && "<"+got+">" != url {
				t.Errorf("%s %q: %d %q, haproxy %d %s", n, uri, gst, got, st, url)
			}
			compared++
		}
	}
	t.Logf("%d answers compared", compared)
}

// normAsk sends a GET for uri and returns the status and x-url header.
func normAsk(t *testing.T, port int, uri string) (int, string) {
	c := dial(t, port)
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", uri)
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", uri, err)
	}
	var st int
	fmt.Sscanf(line, "HTTP/1.1 %d", &st)
	url := ""
	for {
		l, err := r.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(l, "x-url: "); ok {
			url = strings.TrimRight(v, "\r\n")
		}
	}
	return st, url
}

func BenchmarkNormalizeURI(b *testing.B) {
	uri := []byte("/a//b/./c/../d?z=1&b=2&a=%7e#f")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for n := URINormalizer(0); n < nNormalizers; n++ {
			dst, _, _ = NormalizeURI(dst[:0], uri, n)
		}
	}
}
