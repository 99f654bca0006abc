package runtime_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestUserlistDifferential: userlist sections (clear and MD5/SHA-crypt
// passwords, groups named on users and users named on groups) checked by
// http_auth, http_auth_group and http-request auth. The answer and the
// group the backend sees agree with HAProxy's for each credential.
func TestUserlistDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN)")
	}
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	creds := []string{
		"", basic("plain", "pw"), basic("plain", "bad"), basic("md5", "secret1"), basic("md5", "secret5"),
		basic("sha256", "secret5"), basic("sha512", "secret6"), basic("sha512", "Secret6"), basic("nobody", "pw"),
		basic("member", "m"), "Basic !!!", "Bearer x", basic("plain", "pw") + " extra",
	}
	for i, cred := range creds {
		cred := cred
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			g := userlistRun(t, cred, func(cfg, fe string) { startGohap(t, cfg, nil) })
			h := userlistRun(t, cred, func(cfg, fe string) { startHAProxy(t, cfg, fe) })
			t.Logf("%q: %s", cred, h)
			if g != h {
				t.Errorf("%q\ngohap:   %s\nhaproxy: %s", cred, g, h)
			}
		})
	}
}

func userlistRun(t *testing.T, cred string, start func(cfg, fe string)) string {
	var seen []string
	var mu sync.Mutex
	up := recordingUpstream(t, &mu, &seen, func(_ int, r *http.Request) string { return r.Header.Get("X-Group") }, nil)
	addr := freePort(t)
	start(fmt.Sprintf(`userlist L
    group admins users member
    group ops
    user plain insecure-password pw groups ops
    user md5 password $1$abcdefgh$ywpTNDTYPzAT3Ohgseebp/ groups ops,admins
    user sha256 password $5$abcdefgh$AVKsPBNtNFkXXKvvkrPMobKUZbm0i7P2XfVbwGW9BS/
    user sha512 password $6$abcdefgh$xCmU6eXePqd8uT3.jYlk3Fgv/roflqiCi/twHrvHhPTT4qT0rTqu/3ZTFEf6uqFcl7eKyk81ngZEadU/ehEy51
    user member insecure-password m
%sfrontend f
    bind %s
    http-request auth realm R unless { http_auth(L) }
    http-request set-header x-group %%[http_auth_group(L)] if { http_auth_group(L) admins ops }
    default_backend b
backend b
    server s1 %s
`, diffDefaults, addr, up), addr)
	c := dialRaw(t, addr)
	hdr := ""
	if cred != "" {
		hdr = "Authorization: " + cred + "\r\n"
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n"+hdr+"\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "error " + err.Error()
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	return fmt.Sprintf("%d %q server saw %q", resp.StatusCode, resp.Header.Get("Www-Authenticate"), seen)
}

// TestUserlistRefusedScheme: a password hash gohap cannot check stops
// run, at its line, instead of never matching.
func TestUserlistRefusedScheme(t *testing.T) {
	for _, pw := range []string{"$y$j9T$abc$def", "$2b$10$abcdefghijklmnopqrstuu", "abJ0xHfwvJ6wA"} {
		out := compileErr(t, "userlist L\n    user u insecure-password p\n    user v password "+pw+"\n"+diffDefaults+
			"frontend f\n    bind 127.0.0.1:18999\n    http-request auth unless { http_auth(L) }\n")
		if want := ":3] : userlist 'L': user 'v': this password hash scheme is not supported by the gohap runtime yet"; !strings.Contains(out, want) {
			t.Errorf("%s: got %q, want %q", pw, out, want)
		}
	}
	if out := compileErr(t, "userlist L\n    user v password $6$abcdefgh$xCmU6eXePqd8uT3.jYlk3Fgv/roflqiCi/twHrvHhPTT4qT0rTqu/3ZTFEf6uqFcl7eKyk81ngZEadU/ehEy51\n"+
		diffDefaults+"frontend f\n    bind 127.0.0.1:18999\n    http-request auth unless { http_auth(L) }\n"); out != "" {
		t.Errorf("sha512: %q", out)
	}
}
