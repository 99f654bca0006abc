package acl

import "testing"

// mjson's path syntax: a backslash makes the next byte part of the key
// (reg-tests/converter/json_query.vtc, "$.my\\.key").
func TestJSONQueryEscapedDot(t *testing.T) {
	tx := txn(t, diffRequest)
	for _, c := range []struct{ expr, want string }{
		{`req.fhdr(x-json),json_query($.my\.key)`, "dot"},
		{`req.fhdr(x-json),json_query('$.my.key')`, "nested"},
		{`req.fhdr(x-json),json_query($.m\y.\k\ey)`, "nested"},
		{`req.fhdr(x-json),json_query($.my\.key.x)`, ""},
		{`req.fhdr(x-json),json_query($.my\)`, ""},
		{`req.fhdr(x-json),json_query($.my\\)`, ""},
	} {
		if got, _ := eval(t, tx, c.expr); got != c.want {
			t.Errorf("%s: %q, want %q", c.expr, got, c.want)
		}
	}
}
