package parser

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
)

// IssuerChain is one file of issuers-chain-path: its certificates in
// order, the first the issuer a bind's certificate without a chain is
// completed with.
type IssuerChain struct {
	Path  string
	Certs []*x509.Certificate
}

// globalIssuersChainPath reads issuers-chain-path as HAProxy does while
// it parses (ssl_load_global_issuers_from_path): every regular file of
// the directory, in name order, whose PEM certificates form a chain led
// by a certificate with a SubjectKeyIdentifier; the others are warned
// about and left out.
func globalIssuersChainPath(c *pctx) {
	if c.tooMany(1) {
		return
	}
	path := c.arg(1)
	st, err := os.Stat(path)
	if path == "" || err != nil {
		c.alert("global statement '%s' expects a directory path as an argument.\n", c.args[0])
		return
	}
	if !st.IsDir() {
		c.alert("global statement '%s': %s is not a directory.\n", c.args[0], path)
		return
	}
	path = strings.TrimRight(path, "/")
	g := &c.cp.cfg.Global.SSL
	if g.IssuersPath == path && g.IssuersRead {
		return
	}
	g.IssuersPath, g.IssuersRead, g.Issuers = path, true, nil
	dir := path
	if dir == "" {
		// "/" stripped of its slashes: scandir("") fails.
		c.alert("global statement '%s': unable to scan directory '%s' : No such file or directory.\n", c.args[0], path)
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		c.alert("global statement '%s': unable to scan directory '%s' : %s.\n", c.args[0], path, errnoText(err))
		return
	}
	// Position-less, as ha_warning prints them.
	warn := func(format string, a ...any) { c.cp.add(warnf(Pos{File: c.pos.File}, format, a...)) }
	for _, de := range ents {
		fp := path + "/" + de.Name()
		fi, err := os.Stat(fp)
		if err != nil {
			warn("unable to stat certificate from file '%s' : %s.", fp, errnoText(err))
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(fp)
		if err != nil {
			continue
		}
		certs := pemChain(data)
		switch {
		case len(certs) == 0:
			warn("unable to load issuers-chain %s : pem certificate not found.", fp)
			continue
		case len(certs[0].SubjectKeyId) == 0:
			warn("unable to load issuers-chain %s : SubjectKeyIdentifier not found.", fp)
			continue
		}
		dup := ""
		for _, o := range g.Issuers {
			if bytes.Equal(o.Certs[0].SubjectKeyId, certs[0].SubjectKeyId) && bytes.Equal(o.Certs[0].RawSubject, certs[0].RawSubject) {
				dup = o.Path
				break
			}
		}
		if dup != "" {
			warn("duplicate issuers-chain %s: %s already in store", fp, dup)
			continue
		}
		g.Issuers = append(g.Issuers, IssuerChain{Path: fp, Certs: certs})
	}
}

// pemChain reads certificates as PEM_read_bio_X509 does in a loop: the
// CERTIFICATE blocks in order, other blocks skipped, up to the first
// that does not parse.
func pemChain(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" && b.Type != "X509 CERTIFICATE" {
			continue
		}
		x, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out
		}
		out = append(out, x)
	}
}
