// Package runtime turns a parsed configuration into what gohap runs. For
// now it holds the cross-reference checks (HAProxy's phase 2): backends named
// by use_backend and default_backend, missing timeouts, server addresses,
// and the refusal of keywords the proxy engine does not implement yet.
package runtime
