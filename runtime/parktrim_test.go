package runtime

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"reflect"
	"testing"
	"time"
)

// tlsBufCap is the capacity the named bytes.Buffer field of c holds.
func tlsBufCap(c *tls.Conn, field string) int {
	return reflect.ValueOf(c).Elem().FieldByName(field).FieldByName("buf").Cap()
}

// trimTLS finds crypto/tls's buffers on this Go, frees them once empty,
// and the connection works on.
func TestTrimTLS(t *testing.T) {
	if !tlsBufs.ok {
		t.Fatal("crypto/tls.Conn's input buffers are not where trimTLS looks")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cli := tls.Client(b, &tls.Config{InsecureSkipVerify: true})
	go cli.Handshake()
	if err := srv.Handshake(); err != nil {
		t.Fatal(err)
	}
	exchange := func() {
		go io.WriteString(cli, "ping")
		p := make([]byte, 4)
		srv.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(srv, p); err != nil || string(p) != "ping" {
			t.Fatalf("%q %v", p, err)
		}
	}
	exchange()
	if tlsBufCap(srv, "rawInput") == 0 {
		t.Fatal("no raw input buffer after a handshake: nothing to trim")
	}
	trimTLS(srv)
	if n, h := tlsBufCap(srv, "rawInput"), tlsBufCap(srv, "hand"); n != 0 || h != 0 {
		t.Fatalf("raw input %d, handshake %d bytes kept", n, h)
	}
	exchange()
}
