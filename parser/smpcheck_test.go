package parser

import (
	"strings"
	"testing"

	"github.com/gohap/gohap/parser/smpuse"
)

// Messages for fetches used where they are not available, HAProxy's
// wording (the differential tests compare them with haproxy -c).
func TestSampleUseMessages(t *testing.T) {
	cfg := `defaults
  mode http
frontend fe
  bind :8080
  acl isa path_beg /a
  acl mix path_beg /a
  acl mix src 10.0.0.1
  http-response set-header x 1 if { path_beg /a }
  http-response set-header x 1 if isa
  http-response set-header x 1 if mix
  http-request set-header x 1 if { hdr(host) -m found }
  tcp-request content accept if { status 200 }
  use_backend be if HTTP_1.1 { res.hdr(x) -m found }
backend be
  http-response set-header x 1 if { hdr(x) -m found }
  http-response set-header y %[url]
`
	texts := func(cfg string) string {
		_, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
		var got []string
		for _, d := range ds {
			got = append(got, d.Text())
		}
		return strings.Join(got, "\n")
	}
	// A bad HTTP rule stops the parsing of the file: one of them apiece.
	all := texts(cfg) + "\n" + texts("frontend fe\n  mode http\n  bind :80\n  http-request set-var(txn.x) res.hdr(x)\n")
	for _, want := range []string{
		"[c.cfg:8] : anonymous acl will never match because it uses keyword 'path_beg' which is incompatible with 'frontend http-response header rule'",
		"[c.cfg:9] : acl 'isa' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'",
		"[c.cfg:10] : acl 'mix' involves keywords 'path_beg' which is incompatible with 'frontend http-response header rule'",
		"[c.cfg:12] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'status' which is incompatible with 'frontend tcp-request content rule'",
		"[c.cfg:13] : anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend use-backend rule'",
		"[c.cfg:4] : error detected in frontend 'fe' while parsing 'http-request set-var(txn.x)' rule : fetch method 'set-var(txn.x)' extracts information from 'HTTP response headers', none of which is available here.",
		"[c.cfg:15] : anonymous acl will never match because it uses keyword 'hdr' which is incompatible with 'backend http-response header rule'",
		"[c.cfg:16] : error detected in backend 'be' while parsing 'http-response set-header' rule : sample fetch <url]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "c.cfg:11]") {
		t.Errorf("hdr in a request rule reported:\n%s", all)
	}
}

// Rules carry the places they run at, for the runtime's conditions.
func TestRulePlaces(t *testing.T) {
	cfg := `listen li
  mode http
  bind :8080
  http-request set-header x 1
  http-response set-header x 1
  tcp-request content accept
  use_backend li if TRUE
`
	c, ds := Parse([]Input{{Name: "c.cfg", Data: []byte(cfg)}}, Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := c.Proxies[0]
	if w := p.HTTPRequestRules[0].Where; w != smpuse.ValFE_HRQ_HDR|smpuse.ValBE_HRQ_HDR {
		t.Errorf("http-request places %b", w)
	}
	if w := p.HTTPResponseRules[0].Where; w != smpuse.ValFE_HRS_HDR|smpuse.ValBE_HRS_HDR {
		t.Errorf("http-response places %b", w)
	}
	if w := p.TCPRequests[0].Where; w != smpuse.ValFE_REQ_CNT|smpuse.ValBE_REQ_CNT {
		t.Errorf("tcp-request content places %b", w)
	}
	if w := p.UseBackends[0].Where; w != smpuse.ValFE_SET_BCK {
		t.Errorf("use_backend places %b", w)
	}
}
