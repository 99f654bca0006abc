package ssl

import (
	"os/exec"
	"strings"
	"testing"
)

// Cipher strings checked against the openssl binary: Mozilla's modern,
// intermediate and old profiles, Debian's default and classic idioms.
var cipherStrings = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA",
	"HIGH:!aNULL:!MD5",
	"HIGH:MEDIUM:!aNULL:!MD5:!RC4",
	"DEFAULT",
	"DEFAULT:!RSA",
	"ALL",
	"ALL:COMPLEMENTOFALL",
	"ALL:@STRENGTH",
	"ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL",
	"EECDH+AESGCM:EDH+AESGCM",
	"kEECDH+aRSA+AES:kRSA+AES:+AES256:RC4-SHA:!kEDH:!LOW:!EXP:!MD5:!aNULL:!eNULL",
	"ECDH+AESGCM:DH+AESGCM:ECDH+AES256:DH+AES256:ECDH+AES128:DH+AES:RSA+AESGCM:RSA+AES:!aNULL:!MD5:!DSS",
	"AES128-SHA:-ALL:AES256-SHA",
	"ALL:-AES:AES128",
	"HIGH:+SHA1:!PSK:!SRP",
	"aECDSA:aRSA",
	"TLSv1.2:!PSK",
	"SSLv3",
	"TLSv1+HIGH:!SRP",
	"SHA256:SHA384:SHA1:!kRSA",
	"CAMELLIA:ARIA",
	"eNULL",
	"kRSA", "SHA256", "TLSv1.2", "aRSA+SHA1", "ECDHE:-SHA1:NULL-SHA", "aRSA:+kRSA:!MD5",
	"ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384",
	"FOO",
	"FOO:BAR",
	"TLS_AES_128_GCM_SHA256",
	"HIGH:@SECLEVEL=0",
	"HIGH:@FOO",
	"ECDHE+",
	"!",
	"",
}

func openssl(t *testing.T, s string) ([]string, bool) {
	out, err := exec.Command("openssl", "ciphers", "-ciphersuites", "", s).Output()
	if err != nil {
		return nil, false
	}
	return strings.Split(strings.TrimSpace(string(out)), ":"), true
}

func TestCipherStringMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl binary not found")
	}
	agree := 0
	for _, s := range cipherStrings {
		want, wok := openssl(t, s)
		got, gok := ParseCipherString(s)
		if wok != gok || strings.Join(want, ":") != strings.Join(got, ":") && wok {
			t.Errorf("%q:\n got %v %v\nwant %v %v", s, gok, got, wok, want)
			continue
		}
		agree++
	}
	t.Logf("cipher strings agreeing with openssl: %d/%d", agree, len(cipherStrings))
}
