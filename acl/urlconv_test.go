package acl

import "testing"

// The converters of reg-tests/converter/url_dec.vtc and url_enc.vtc keep
// trailing spaces: the values end in a space.
func TestURLDecEncRegTests(t *testing.T) {
	tx := txn(t, "GET /bla+%20?foo%3Dbar%2B42+42%20 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, c := range []struct{ expr, want string }{
		{"url,url_dec", "/bla+ ?foo=bar+42 42 "},
		{"url,url_dec(1)", "/bla  ?foo=bar+42 42 "},
		{"str(foo=bar+42 42 ),url_enc", "foo%3Dbar%2B42%2042%20"},
		{"str(foo=bar+42 42 ),url_enc,url_dec", "foo=bar+42 42 "},
		{"str(foo=bar+42 42 ),url_enc,url_dec,url_enc(query)", "foo%3Dbar%2B42%2042%20"},
	} {
		if got, ok := eval(t, tx, c.expr); !ok || got != c.want {
			t.Errorf("%s = %q %v, want %q", c.expr, got, ok, c.want)
		}
	}
}
