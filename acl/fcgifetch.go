package acl

// The fetches of the backend's fcgi-app (src/fcgi-app.c): empty, they
// find nothing, as HAProxy's do outside an FastCGI backend.
func init() {
	addFetch(
		&fetchDef{name: "fcgi.docroot", out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool { return nameValue(t, t.FCGIDocroot, v) }},
		&fetchDef{name: "fcgi.index", out: TypeStr, fn: func(fe *fetch, t *Txn, v *Value) bool { return nameValue(t, t.FCGIIndex, v) }},
	)
}
