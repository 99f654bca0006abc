package parser

import (
	"strings"
	"testing"
)

// The PROXY protocol options of servers and binds fill typed fields; a
// later "no-" option undoes an earlier one, default-server lines included.
func TestProxyProtocolModel(t *testing.T) {
	cfg := `global
 pp2-never-send-local
frontend fe
 bind :80 accept-proxy
 bind :81
backend be
 default-server send-proxy check-send-proxy
 server a 127.0.0.1:1
 server b 127.0.0.1:1 no-send-proxy send-proxy-v2 proxy-v2-options crc32c proxy-v2-options authority,unique-id no-check-send-proxy
 server c 127.0.0.1:1 send-proxy-v2 no-send-proxy-v2 no-send-proxy
 server d 127.0.0.1:1 no-send-proxy send-proxy-v2-ssl-cn no-send-proxy-v2-ssl
 server e 127.0.0.1:1 no-send-proxy proxy-v2-options crc32c
`
	c, ds := Parse([]Input{{Name: "p.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if !c.Global.PP2NeverSendLocal {
		t.Error("pp2-never-send-local not set")
	}
	var fe, be *Proxy
	for _, p := range c.Proxies {
		switch p.Name {
		case "fe":
			fe = p
		case "be":
			be = p
		}
	}
	if !fe.Binds[0].AcceptProxy || fe.Binds[1].AcceptProxy {
		t.Errorf("accept-proxy: %v %v", fe.Binds[0].AcceptProxy, fe.Binds[1].AcceptProxy)
	}
	// PP: v1, v2, then the SSL, SSL_CN and CRC32C bits, as SRV_PP_*.
	want := []string{"v1 true ", "v2 crc32c authority unique-id false crc32c,authority,unique-id", " true ", "cert-cn true ", "crc32c true crc32c"}
	for i, s := range be.Servers {
		st := s.Settings
		var pp []string
		for _, f := range []struct {
			bit  RingPP
			name string
		}{{PPv1, "v1"}, {PPv2, "v2"}, {PPv2SSL, "ssl"}, {PPv2SSLCN, "cert-cn"}, {PPv2CRC32C, "crc32c"}, {PPv2Authority, "authority"}, {PPv2UniqueID, "unique-id"}} {
			if st.PP&f.bit != 0 {
				pp = append(pp, f.name)
			}
		}
		got := strings.Join([]string{strings.Join(pp, " "), boolStr(st.CheckSendProxy), strings.Join(st.ProxyV2Options, ",")}, " ")
		if got != want[i] || st.Unsupported != "" {
			t.Errorf("server %s: %q (unsupported %q), want %q", s.Name, got, st.Unsupported, want[i])
		}
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
