package ssl

import "testing"

func FuzzCrtListLine(f *testing.F) {
	for _, s := range []string{
		"cert.pem",
		"cert.pem [alpn h2,http/1.1 ssl-min-ver TLSv1.2] *.example.com !bad.example.com",
		"cert.pem [verify optional ca-file ca.pem crl-file crl.pem no-ca-names] a.com",
		"[alpn h2] cert.pem",
		"cert.pem [alpn]",
		"cert.pem [[x]]",
		"cert.pem x]",
		"cert.pem [ciphers ECDHE+AESGCM ciphersuites TLS_AES_128_GCM_SHA256 curves X25519:P-256]",
		"",
		"\t \r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ln, err := ParseCrtListLine(line, "f", 1, nil)
		if err != nil {
			if err.Msg == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if ln == nil {
			return
		}
		if ln.Path == "" {
			t.Fatalf("line %q: empty certificate path", line)
		}
	})
}

func FuzzCipherString(f *testing.F) {
	for _, s := range cipherStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, ok := ParseCipherString(s)
		if ok == (len(names) == 0) && ok {
			t.Fatalf("%q: ok with no cipher", s)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Fatalf("%q: %s listed twice", s, n)
			}
			seen[n] = true
		}
	})
}
