package ssl

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"

	"github.com/gohap/gohap/acl"
)

// OpenSSL 3 packs a library and a reason into the error code HAProxy
// keeps of a failed handshake (ssl_fc_err, ssl_bc_err); all of them are
// the SSL library's (ERR_LIB_SSL).
const libSSL = 20 << 23

// Reasons of OpenSSL's SSL library (sslerr.h) for the failures Go's
// handshake reports.
const (
	reasonCertVerifyFailed = 134
	reasonHTTPSProxy       = 155
	reasonHTTPRequest      = 156
	reasonNoSharedCipher   = 193
	reasonPeerNoCert       = 199
	reasonCallbackFailed   = 234
	reasonNoAppProtocol    = 235
	reasonUnsupportedProto = 258
	reasonWrongVersion     = 267
	reasonWrongCurve       = 378
	// reasonAlert plus the alert's number is a received alert.
	reasonAlert = 1000
)

var reasonText = map[uint32]string{
	reasonCertVerifyFailed: "certificate verify failed",
	reasonHTTPSProxy:       "https proxy request",
	reasonHTTPRequest:      "http request",
	reasonNoSharedCipher:   "no shared cipher",
	reasonPeerNoCert:       "peer did not return a certificate",
	reasonCallbackFailed:   "callback failed",
	reasonNoAppProtocol:    "no application protocol",
	reasonUnsupportedProto: "unsupported protocol",
	reasonWrongVersion:     "wrong version number",
	reasonWrongCurve:       "wrong curve",
}

// alertText is OpenSSL's reason text for each alert received.
var alertText = map[uint8]string{
	10: "sslv3 alert unexpected message", 20: "sslv3 alert bad record mac",
	21: "tlsv1 alert decryption failed", 22: "tlsv1 alert record overflow",
	30: "sslv3 alert decompression failure", 40: "sslv3 alert handshake failure",
	41: "sslv3 alert no certificate", 42: "sslv3 alert bad certificate",
	43: "sslv3 alert unsupported certificate", 44: "sslv3 alert certificate revoked",
	45: "sslv3 alert certificate expired", 46: "sslv3 alert certificate unknown",
	47: "sslv3 alert illegal parameter", 48: "tlsv1 alert unknown ca",
	49: "tlsv1 alert access denied", 50: "tlsv1 alert decode error",
	51: "tlsv1 alert decrypt error", 60: "tlsv1 alert export restriction",
	70: "tlsv1 alert protocol version", 71: "tlsv1 alert insufficient security",
	80: "tlsv1 alert internal error", 86: "tlsv1 alert inappropriate fallback",
	90: "tlsv1 alert user cancelled", 100: "tlsv1 alert no renegotiation",
	109: "tlsv13 alert missing extension", 110: "tlsv1 unsupported extension",
	111: "tlsv1 certificate unobtainable", 112: "tlsv1 unrecognized name",
	113: "tlsv1 bad certificate status response", 114: "tlsv1 bad certificate hash value",
	115: "tlsv1 alert unknown psk identity", 116: "tlsv13 alert certificate required",
	120: "tlsv1 alert no application protocol",
}

// Failure is a failed handshake as HAProxy reports it: the connection's
// error code (fc_err, bc_err) and the TLS library's (ssl_fc_err,
// ssl_bc_err), 0 when the library raised none.
type Failure struct {
	ConnErr uint8
	Code    uint32
	// Verify is the refusal of the peer's certificate, if that was the
	// failure.
	Verify *VerifyError
}

// Text is ERR_error_string's text of the library's code, "" for none.
func (f Failure) Text() string {
	if f.Code == 0 {
		return ""
	}
	r := f.Code &^ libSSL
	t, ok := reasonText[r]
	if r > reasonAlert {
		t, ok = alertText[uint8(r-reasonAlert)]
	}
	if !ok {
		t = fmt.Sprintf("reason(%d)", r)
	}
	return fmt.Sprintf("error:%08X:SSL routines::%s", f.Code, t)
}

func ssl(reason uint32) uint32 { return libSSL | reason }

// receivedAlert is the alert in a "remote error" Go returns.
func receivedAlert(err error) (uint8, bool) {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return 0, false
	}
	// crypto/tls's alert type is unexported: a uint8.
	if v := reflect.ValueOf(oe.Err); v.Kind() == reflect.Uint8 {
		return uint8(v.Uint()), true
	}
	return 0, false
}

// AlertCode is the library's code for an alert received after the
// handshake (HAProxy's "SSL fatal error"), 0 when err is none.
func AlertCode(err error) uint32 {
	if a, ok := receivedAlert(err); ok {
		return ssl(reasonAlert + uint32(a))
	}
	return 0
}

// common classifies the failures both sides share; ok is false for the
// others.
func common(err error) (Failure, bool) {
	var ne net.Error
	var rh tls.RecordHeaderError
	var ve *VerifyError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return Failure{ConnErr: acl.ConnErrSSLTimeout}, true
	case errors.As(err, &ve):
		return Failure{ConnErr: acl.ConnErrSSLHandshk, Code: ssl(reasonCertVerifyFailed), Verify: ve}, true
	case errors.As(err, &rh):
		h := rh.RecordHeader[:]
		r := uint32(reasonWrongVersion)
		switch {
		case bytes.HasPrefix(h, []byte("GET ")), bytes.HasPrefix(h, []byte("POST ")),
			bytes.HasPrefix(h, []byte("HEAD ")), bytes.HasPrefix(h, []byte("PUT ")):
			r = reasonHTTPRequest
		case bytes.HasPrefix(h, []byte("CONNE")):
			r = reasonHTTPSProxy
		}
		return Failure{ConnErr: acl.ConnErrSSLHandshk, Code: ssl(r)}, true
	}
	if a, ok := receivedAlert(err); ok {
		return Failure{ConnErr: acl.ConnErrSSLHandshk, Code: ssl(reasonAlert + uint32(a))}, true
	}
	return Failure{}, false
}

// BindFailure classifies a failed client handshake on a bind. helloRead
// says the client's whole ClientHello was read: a client that closes
// before that "closed during SSL handshake", after it the handshake
// failed.
func BindFailure(err error, helloRead bool) Failure {
	if f, ok := common(err); ok {
		if f.Verify != nil && f.Verify.Depth > 0 {
			f.ConnErr = acl.ConnErrSSLCAFail
		} else if f.Verify != nil {
			f.ConnErr = acl.ConnErrSSLCrtFail
		}
		return f
	}
	msg := err.Error()
	has := func(s string) bool { return strings.Contains(msg, s) }
	f := Failure{ConnErr: acl.ConnErrSSLHandshk}
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if !helloRead {
			f.ConnErr = acl.ConnErrSSLEmpty
		}
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		// The error seen on the socket before any TLS step: HAProxy's
		// out_error, a handshake failure with no library error.
	case errors.Is(err, errStrictSNI):
		f.Code = ssl(reasonCallbackFailed)
	case errors.Is(err, errWrongCurve):
		f.Code = ssl(reasonWrongCurve)
	case has("tls: no cipher suite supported by both client and server"):
		f.Code = ssl(reasonNoSharedCipher)
	case has("tls: client offered only unsupported versions"), has("tls: client offered TLS version older than TLS 1.3"):
		f.Code = ssl(reasonUnsupportedProto)
	case has("tls: client requested unsupported application protocols"):
		f.Code = ssl(reasonNoAppProtocol)
	case has("tls: client didn't provide a certificate"):
		f.Code = ssl(reasonPeerNoCert)
	}
	return f
}

// NameRead says the client's server name was read: OpenSSL reads the
// ClientHello's extensions once it agreed on a version.
func (f Failure) NameRead() bool { return f.Code != ssl(reasonUnsupportedProto) }

// ServerFailure classifies a failed handshake with a server; sni says
// the name checked was the SNI sent, not verifyhost's.
func ServerFailure(err error) Failure {
	var me *MismatchError
	if errors.As(err, &me) {
		f := Failure{ConnErr: acl.ConnErrMismatch, Code: ssl(reasonCertVerifyFailed)}
		if me.SNI {
			f.ConnErr = acl.ConnErrMismatchSNI
		}
		return f
	}
	if f, ok := common(err); ok {
		return f
	}
	return Failure{ConnErr: acl.ConnErrSSLHandshk}
}

// MismatchError is a server certificate that does not match the name
// checked: the SNI sent, else verifyhost's.
type MismatchError struct {
	Name string
	SNI  bool
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("ssl: server certificate does not match '%s'", e.Name)
}

// FailedState is what the fetches and the log read of a failed
// handshake: the version OpenSSL would show (the negotiated one, the
// client's for a version it could not agree on, else TLSv1.3), a cipher
// only once TLS 1.3 chose it, and the peer's certificate.
func FailedState(cs tls.ConnectionState, f Failure, clientMax uint16) (version, cipher string, peer []*x509.Certificate) {
	v := cs.Version
	if v == 0 && f.Code == ssl(reasonUnsupportedProto) {
		v = clientMax
	}
	if v == 0 {
		v = tls.VersionTLS13
	}
	cipher = "(NONE)"
	if v == tls.VersionTLS13 && cs.CipherSuite != 0 {
		cipher = CipherName(cs.CipherSuite)
	}
	peer = cs.PeerCertificates
	if f.Verify != nil && len(f.Verify.Peer) > 0 {
		peer = f.Verify.Peer
	}
	return ProtocolName(v), cipher, peer
}
