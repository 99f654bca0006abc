package acl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// The DER walk of the certificate fetches never panics, whatever the
// bytes, and never reads a DN out of what is not one.
func FuzzCertDER(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{0x30, 0x82, 0x00, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x02})
	f.Add([]byte{0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &x509.Certificate{Raw: b, RawTBSCertificate: b}
		readTBS(c)
		sigAlgOID(c)
		appendDN(nil, b, "", 1)
		appendDN(nil, b, "CN", -1)
		appendOIDName(nil, b, algShortNames)
	})
}

// A DN entry is picked by its short name, any case, counted from the
// start or, negative, from the end; an OID without a name shows dotted.
func TestAppendDN(t *testing.T) {
	// SEQUENCE { SET { CN=a }, SET { O=b }, SET { CN=c }, SET { 1.2.3=d } }
	dn := []byte{0x30, 0x2f,
		0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 'a',
		0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x01, 'b',
		0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 'c',
		0x31, 0x09, 0x30, 0x07, 0x06, 0x02, 0x2a, 0x03, 0x0c, 0x01, 'd'}
	for _, c := range []struct {
		entry string
		pos   int
		want  string
		ok    bool
	}{
		{"", 1, "/CN=a/O=b/CN=c/1.2.3=d", true},
		{"cn", 1, "a", true},
		{"CN", 2, "c", true},
		{"CN", -1, "c", true},
		{"CN", -2, "a", true},
		{"CN", 3, "", false},
		{"1.2.3", 1, "d", true},
	} {
		got, ok := appendDN(nil, dn, c.entry, c.pos)
		if string(got) != c.want || ok != c.ok {
			t.Errorf("%s,%d: %q %v, want %q %v", c.entry, c.pos, got, ok, c.want, c.ok)
		}
	}
}

// The certificate fetches read the DER in place: no allocation per
// request once the work buffers have grown.
func BenchmarkCertFetches(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(0x1234), Subject: pkix.Name{CommonName: "bench.test", Organization: []string{"Bench"}},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	t := &Txn{TLS: &TLSInfo{Peer: []*x509.Certificate{c}, Local: c}}
	var samples []*Sample
	for _, e := range []string{"ssl_c_s_dn", "ssl_c_i_dn(CN)", "ssl_f_sha1,hex", "ssl_c_notafter", "ssl_c_serial,hex", "ssl_c_sig_alg", "ssl_f_key_alg"} {
		s, err := CompileSample(e)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, s)
	}
	var dst []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, s := range samples {
			dst, _ = s.Append(dst[:0], t)
		}
	}
}
