package acl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"hash"
	"math/big"
	"os"
	"sync"
)

// The JWT converters (src/jwt.c, sample.c): the decoded header or
// payload of a token, a JSON field of either, and the check of its
// signature.

func init() {
	addConv(
		&convDef{name: "jwt_header_query", args: spec(0, aStr, aStr), in: TypeBin, out: TypeAny, fn: convJWTHeader, check: checkJWTQuery},
		&convDef{name: "jwt_payload_query", args: spec(0, aStr, aStr), in: TypeBin, out: TypeAny, fn: convJWTPayload, check: checkJWTQuery},
		&convDef{name: "jwt_verify", args: spec(2, aStr, aStr), in: TypeBin, out: TypeInt, fn: convJWTVerify, check: checkJWTVerify},
	)
}

// JWT algorithms (enum jwt_alg).
const (
	jwtUnknown = iota
	jwtNone
	jwtHS256
	jwtHS384
	jwtHS512
	jwtRS256
	jwtRS384
	jwtRS512
	jwtES256
	jwtES384
	jwtES512
	jwtPS256
	jwtPS384
	jwtPS512
)

// jwtAlg is jwt_parse_alg: the 5-letter names compare on their first
// letter and at most len-1 more bytes, as strncmp does.
func jwtAlg(s []byte) int {
	if len(s) < 5 {
		if string(s) == "none" {
			return jwtNone
		}
		return jwtUnknown
	}
	rest := s[1:]
	eq := func(want string) bool {
		n := min(len(rest), len(want))
		return string(rest[:n]) == want[:n] && (len(rest) <= len(want) || rest[len(want)] == 0)
	}
	var base int
	switch s[0] {
	case 'H':
		base = jwtHS256
	case 'R':
		base = jwtRS256
	case 'E':
		base = jwtES256
	case 'P':
		base = jwtPS256
	default:
		return jwtUnknown
	}
	for i, bits := range []string{"S256", "S384", "S512"} {
		if eq(bits) {
			return base + i
		}
	}
	return jwtUnknown
}

// jwtKeys are the public keys jwt_verify's literal key arguments name,
// loaded once as jwt_tree_load_cert does; a file that does not load
// leaves no key, and verifying with it answers -5.
var jwtKeys = struct {
	sync.Mutex
	m map[string]crypto.PublicKey
}{m: map[string]crypto.PublicKey{}}

func loadJWTKey(path string) {
	jwtKeys.Lock()
	defer jwtKeys.Unlock()
	if _, ok := jwtKeys.m[path]; ok {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return
	}
	if k, err := x509.ParsePKIXPublicKey(blk.Bytes); err == nil {
		jwtKeys.m[path] = k
	}
}

func checkJWTVerify(c *conv, ctx *Context) error {
	for i := range c.args[:2] {
		// vars_check_arg: a valid variable name is a variable.
		_ = varArg(&c.args[i], ctx)
	}
	if a := &c.args[0]; !a.isVar {
		switch jwtAlg(a.b) {
		case jwtUnknown:
			return errorf("unknown JWT algorithm: %s", a.s)
		case jwtPS256, jwtPS384, jwtPS512:
			return errorf("RSASSA-PSS JWS signing not managed yet")
		}
	}
	if a := &c.args[1]; !a.isVar {
		loadJWTKey(a.s)
	}
	return nil
}

func checkJWTQuery(c *conv, ctx *Context) error {
	if len(c.args) > 1 && c.args[1].s != "" {
		if c.args[1].s != "int" {
			return errorf("output_type only supports \"int\" as argument")
		}
		c.i = 1
	}
	if len(c.args) > 0 && c.args[0].s != "" {
		steps, ok := parseJSONPath(c.args[0].s)
		if !ok {
			steps = nil
			c.s = "invalid"
		}
		c.json = steps
	}
	return nil
}

// jwtParts splits a token on its dots, as jwt_tokenize: at most n parts;
// ok is false when more follow.
func jwtParts(tok []byte, n int) (parts [3][]byte, count int, ok bool) {
	start := 0
	for i := 0; i < len(tok); i++ {
		if tok[i] != '.' {
			continue
		}
		parts[count] = tok[start:i]
		count++
		start = i + 1
		if count == n {
			return parts, count, false
		}
	}
	parts[count] = tok[start:]
	return parts, count + 1, true
}

func convJWTHeader(c *conv, t *Txn, v *Value) bool  { return jwtQuery(c, t, v, 0) }
func convJWTPayload(c *conv, t *Txn, v *Value) bool { return jwtQuery(c, t, v, 1) }

func jwtQuery(c *conv, t *Txn, v *Value, member int) bool {
	parts, n, _ := jwtParts(v.B, member+1)
	if n < member+1 {
		return false
	}
	b, ok := appendBase64URLDec(t.tmp(), parts[member])
	if !ok {
		return false
	}
	v.Type, v.B = TypeStr, t.keep(b)
	if len(c.args) == 0 || c.args[0].s == "" {
		// HAProxy 2.6 decodes the part, then reports no value.
		return false
	}
	return convJSONQuery(c, t, v)
}

// JWT verification results (enum jwt_vrfy_status).
const (
	jwtKO           = 0
	jwtOK           = 1
	jwtUnknownAlg   = -1
	jwtUnmanagedAlg = -2
	jwtInvalidToken = -3
	jwtUnknownCert  = -5
)

func convJWTVerify(c *conv, t *Txn, v *Value) bool {
	tok := v.B
	alg, ok := jwtArg(t, &c.args[0])
	if !ok {
		return false
	}
	algID := jwtAlg(alg)
	key, ok := jwtArg(t, &c.args[1])
	if !ok {
		return false
	}
	v.Type, v.I = TypeInt, jwtVerify(tok, algID, key)
	return true
}

func jwtArg(t *Txn, a *arg) ([]byte, bool) {
	if a.isVar {
		return varText(t, a)
	}
	return a.b, true
}

func jwtVerify(tok []byte, alg int, key []byte) int64 {
	if alg == jwtUnknown {
		return jwtUnknownAlg
	}
	parts, n, whole := jwtParts(tok, 3)
	if !whole || n != 3 && (alg != jwtNone || n != 2) {
		return jwtInvalidToken
	}
	if alg == jwtNone {
		if len(parts[2]) == 0 {
			return jwtOK
		}
		return jwtKO
	}
	if len(parts[2]) == 0 {
		return jwtInvalidToken
	}
	sig, ok := appendBase64URLDec(nil, parts[2])
	if !ok {
		return jwtInvalidToken
	}
	// The signed input is the header and the payload with their dot.
	signed := tok[:len(parts[0])+1+len(parts[1])]
	var h func() hash.Hash
	var ch crypto.Hash
	switch (alg - jwtHS256) % 3 {
	case 0:
		h, ch = sha256.New, crypto.SHA256
	case 1:
		h, ch = sha512.New384, crypto.SHA384
	default:
		h, ch = sha512.New, crypto.SHA512
	}
	switch {
	case alg <= jwtHS512:
		m := hmac.New(h, key)
		m.Write(signed)
		if subtle.ConstantTimeCompare(m.Sum(nil), sig) == 1 {
			return jwtOK
		}
		return jwtKO
	case alg <= jwtES512:
		jwtKeys.Lock()
		pk, found := jwtKeys.m[string(key)]
		jwtKeys.Unlock()
		if !found {
			return jwtUnknownCert
		}
		d := h()
		d.Write(signed)
		sum := d.Sum(nil)
		switch k := pk.(type) {
		case *rsa.PublicKey:
			if alg <= jwtRS512 && rsa.VerifyPKCS1v15(k, ch, sum, sig) == nil {
				return jwtOK
			}
		case *ecdsa.PublicKey:
			// A JWS carries R and S side by side: another length is
			// no JWS signature.
			size := (k.Curve.Params().BitSize + 7) / 8
			if alg >= jwtES256 && len(sig) != 2*size {
				return jwtInvalidToken
			}
			if alg >= jwtES256 {
				r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
				if ecdsa.Verify(k, sum, r, s) {
					return jwtOK
				}
			}
		}
		return jwtKO
	}
	return jwtUnmanagedAlg
}
