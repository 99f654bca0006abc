package acl

import "strings"

// TLSKeys are a handshake's randoms and secrets, for the fetches that
// write a key log (configuration.txt, tune.ssl.keylog).
type TLSKeys struct {
	// ClientRandom and ServerRandom are the hellos' randoms.
	ClientRandom, ServerRandom []byte
	// SessionKey is the TLS 1.2 master secret (ssl_fc_session_key); Go
	// gives no TLS 1.3 session's, which stays nil.
	SessionKey []byte
	// The TLS 1.3 traffic secrets as lowercase hex text, kept with
	// tune.ssl.keylog on only, as HAProxy keeps them.
	ClientHS, ServerHS, Client0, Server0 []byte
	// UniqueID is the verify data of the peer's Finished message, of
	// this side's own after a resumption (ssl_fc_unique_id).
	UniqueID []byte
}

// Needs collects what the compiled expressions need of connections
// beyond what every connection keeps.
type Needs struct {
	// FrontKeys, BackKeys: the randoms and secrets of the client
	// (ssl_fc_*) and server (ssl_bc_*) handshakes.
	FrontKeys, BackKeys bool
	// FrontFinished, BackFinished: their Finished messages too, which
	// are read from the handshake's records.
	FrontFinished, BackFinished bool
}

func init() {
	keys := func(name string, out Type, f func(*TLSKeys) []byte) *fetchDef {
		back := strings.HasPrefix(name, "ssl_bc")
		finished := strings.HasSuffix(name, "_unique_id")
		return &fetchDef{name: name, out: out,
			check: func(_ *fetch, ctx *Context) error {
				if ctx != nil && ctx.Needs != nil {
					if back {
						ctx.Needs.BackKeys = true
						ctx.Needs.BackFinished = ctx.Needs.BackFinished || finished
					} else {
						ctx.Needs.FrontKeys = true
						ctx.Needs.FrontFinished = ctx.Needs.FrontFinished || finished
					}
				}
				return nil
			},
			fn: func(fe *fetch, t *Txn, v *Value) bool {
				info := t.TLS
				if back {
					info = t.BackTLS
				}
				if info == nil || info.Keys == nil {
					return false
				}
				b := f(info.Keys)
				if len(b) == 0 {
					return false
				}
				v.Type, v.B = out, append(t.tmp(), b...)
				return true
			}}
	}
	addFetch(
		keys("ssl_fc_client_random", TypeBin, func(k *TLSKeys) []byte { return k.ClientRandom }),
		keys("ssl_fc_server_random", TypeBin, func(k *TLSKeys) []byte { return k.ServerRandom }),
		keys("ssl_fc_session_key", TypeBin, func(k *TLSKeys) []byte { return k.SessionKey }),
		keys("ssl_bc_client_random", TypeBin, func(k *TLSKeys) []byte { return k.ClientRandom }),
		keys("ssl_bc_server_random", TypeBin, func(k *TLSKeys) []byte { return k.ServerRandom }),
		keys("ssl_bc_session_key", TypeBin, func(k *TLSKeys) []byte { return k.SessionKey }),
		keys("ssl_fc_unique_id", TypeBin, func(k *TLSKeys) []byte { return k.UniqueID }),
		keys("ssl_bc_unique_id", TypeBin, func(k *TLSKeys) []byte { return k.UniqueID }),
		keys("ssl_fc_client_handshake_traffic_secret", TypeStr, func(k *TLSKeys) []byte { return k.ClientHS }),
		keys("ssl_fc_server_handshake_traffic_secret", TypeStr, func(k *TLSKeys) []byte { return k.ServerHS }),
		keys("ssl_fc_client_traffic_secret_0", TypeStr, func(k *TLSKeys) []byte { return k.Client0 }),
		keys("ssl_fc_server_traffic_secret_0", TypeStr, func(k *TLSKeys) []byte { return k.Server0 }),
		// Go's server accepts no early data: there is never an early
		// secret, as in HAProxy without 0-RTT.
		&fetchDef{name: "ssl_fc_client_early_traffic_secret", out: TypeStr, fn: func(*fetch, *Txn, *Value) bool { return false }},
		&fetchDef{name: "ssl_fc_early_exporter_secret", out: TypeStr, fn: func(*fetch, *Txn, *Value) bool { return false }},
	)
}
