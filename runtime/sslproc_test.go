package runtime

import (
	"testing"
	"time"

	"github.com/gohap/gohap/runtime/stats"
)

// The reuse share is HAProxy's sum on the rate estimates: 84 TLS
// connections in a second, 4 of them with new keys, give 95, as in its
// ssl_reuse reg-test; without connections it is 0.
func TestSSLReuseShare(t *testing.T) {
	var p sslProcess
	now := time.Unix(1000, 0)
	var in stats.Info
	p.info(now, &in)
	if in.SSLReusePct != 0 || in.SSLRate != 0 {
		t.Errorf("idle: %+v", in)
	}
	for i := 0; i < 84; i++ {
		p.Open()
		p.accepted(now)
	}
	for i := 0; i < 4; i++ {
		p.feKeys.add(now)
	}
	p.beKeys.add(now)
	p.info(now.Add(100*time.Millisecond), &in)
	if in.SSLReusePct != 95 || in.SSLRate != 84 || in.MaxSSLRate != 84 || in.SSLFEKeyRate != 4 || in.SSLBEKeyRate != 1 ||
		in.SSLConns != 84 || in.CumSSLConns != 84 {
		t.Errorf("%+v", in)
	}
	// A second later the estimate still counts the last second's share.
	p.info(now.Add(1500*time.Millisecond), &in)
	if in.SSLRate != 42 || in.SSLReusePct != 95 || in.MaxSSLRate != 84 {
		t.Errorf("a second later: %+v", in)
	}
}
