package ssl

import (
	"crypto/tls"
	"slices"
	"sync"
	_ "unsafe" // for go:linkname
)

// Go's TLS 1.3 suite order: its server takes the first one the client
// offers, its client offers them in it. crypto/tls keeps both lists (with
// and without AES hardware) for the packages that set them.
//
//go:linkname goTLS13Order crypto/tls.defaultCipherSuitesTLS13
var goTLS13Order []uint16

//go:linkname goTLS13OrderNoAES crypto/tls.defaultCipherSuitesTLS13NoAES
var goTLS13OrderNoAES []uint16

// OpenSSLTLS13Order is OpenSSL 3's default TLS 1.3 list, which HAProxy's
// servers pick from in order (it prefers its own order) and its clients
// offer.
var OpenSSLTLS13Order = []uint16{tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256, tls.TLS_AES_128_GCM_SHA256}

var orderMu sync.Mutex

// HAProxy's order from the start, before any handshake reads it.
func init() { UseTLS13Order(OpenSSLTLS13Order) }

// UseTLS13Order makes order the process' TLS 1.3 order. Handshakes read
// it unlocked: an engine sets it before it serves, and a configuration
// that changes it is not loaded in a process that served another.
func UseTLS13Order(order []uint16) {
	orderMu.Lock()
	defer orderMu.Unlock()
	if slices.Equal(goTLS13Order, order) && slices.Equal(goTLS13OrderNoAES, order) {
		return
	}
	goTLS13Order, goTLS13OrderNoAES = slices.Clone(order), slices.Clone(order)
}

// tls13Order is the order a ciphersuites list gives Go's three suites,
// nil for an empty list or one without all three (refused elsewhere).
func tls13Order(suites string) []uint16 {
	ids, missing, ok := parseCiphersuites(suites)
	if !ok || len(missing) > 0 {
		return nil
	}
	var order []uint16
	for _, id := range ids {
		if slices.Contains(goTLS13, id) && !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	return order
}

// OrderName spells an order as a ciphersuites list.
func OrderName(order []uint16) string {
	s := ""
	for i, id := range order {
		if i > 0 {
			s += ":"
		}
		s += tls.CipherSuiteName(id)
	}
	return s
}
