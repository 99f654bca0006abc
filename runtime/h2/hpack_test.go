package h2

import (
	"testing"

	"golang.org/x/net/http2/hpack"
)

// rfc7541Names is the static table's names at their first index.
var rfc7541Names = map[string]uint8{
	":authority": 1, ":method": 2, ":path": 4, ":scheme": 6,
	":status": 8, "accept-charset": 15, "accept-encoding": 16, "accept-language": 17,
	"accept-ranges": 18, "accept": 19, "access-control-allow-origin": 20, "age": 21,
	"allow": 22, "authorization": 23, "cache-control": 24, "content-disposition": 25,
	"content-encoding": 26, "content-language": 27, "content-length": 28, "content-location": 29,
	"content-range": 30, "content-type": 31, "cookie": 32, "date": 33,
	"etag": 34, "expect": 35, "expires": 36, "from": 37,
	"host": 38, "if-match": 39, "if-modified-since": 40, "if-none-match": 41,
	"if-range": 42, "if-unmodified-since": 43, "last-modified": 44, "link": 45,
	"location": 46, "max-forwards": 47, "proxy-authenticate": 48, "proxy-authorization": 49,
	"range": 50, "referer": 51, "refresh": 52, "retry-after": 53,
	"server": 54, "set-cookie": 55, "strict-transport-security": 56, "transfer-encoding": 57,
	"user-agent": 58, "vary": 59, "via": 60, "www-authenticate": 61,
}

func TestStaticName(t *testing.T) {
	for n, want := range rfc7541Names {
		if got, ok := staticName([]byte(n)); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", n, got, ok, want)
		}
	}
	for _, n := range []string{"", "x-forwarded-for", "Host", "hosts", ":authorit", "content-lengt", "etags"} {
		if got, ok := staticName([]byte(n)); ok {
			t.Errorf("%q: found at %d", n, got)
		}
	}
}

// TestAppendPseudo: the request pseudo-header values the static table
// has go as one indexed byte, as HAProxy sends them (hpack_encode_method,
// _scheme, _path); the others as literals that decode to themselves.
func TestAppendPseudo(t *testing.T) {
	cases := []struct {
		name, value string
		want        []byte
	}{
		{":method", "GET", []byte{0x82}},
		{":method", "POST", []byte{0x83}},
		{":method", "PUT", []byte{0x02, 3, 'P', 'U', 'T'}},
		{":method", "get", []byte{0x02, 3, 'g', 'e', 't'}},
		{":path", "/", []byte{0x84}},
		{":path", "/index.html", []byte{0x85}},
		{":path", "/a", []byte{0x04, 2, '/', 'a'}},
		{":scheme", "http", []byte{0x86}},
		{":scheme", "https", []byte{0x87}},
		{":scheme", "foo", []byte{0x06, 3, 'f', 'o', 'o'}},
	}
	for _, c := range cases {
		got := appendPseudo(nil, c.name, []byte(c.value))
		if string(got) != string(c.want) {
			t.Errorf("%s %q: % x, want % x", c.name, c.value, got, c.want)
		}
		fields, err := hpack.NewDecoder(4096, nil).DecodeFull(got)
		if err != nil || len(fields) != 1 || fields[0].Name != c.name || fields[0].Value != c.value {
			t.Errorf("%s %q decodes to %v (%v)", c.name, c.value, fields, err)
		}
	}
	buf, path := make([]byte, 0, 64), []byte("/a/long/path/beyond/thirty-two/bytes")
	if n := testing.AllocsPerRun(100, func() { buf = appendPseudo(buf[:0], ":path", path) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
