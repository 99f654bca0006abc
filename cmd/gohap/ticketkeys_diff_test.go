package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTicketKeysFilesDifferential checks tls-ticket-keys files, good and
// bad, with haproxy -c and gohap check: exit code and every message.
func TestTicketKeysFilesDifferential(t *testing.T) {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	dir := t.TempDir()
	crt := writeSelfSigned(t, dir)
	key := func(n int, b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n)) }
	k48, k80 := key(48, 1), key(80, 2)
	files := []struct{ name, text string }{
		{"three", k48 + "\n" + k48 + "\n" + k48 + "\n"},
		{"four80", strings.Repeat(k80+"\n", 4)},
		{"two", k48 + "\n" + k48 + "\n"},
		{"mixed", k48 + "\n" + k48 + "\n" + k80 + "\n"},
		{"mixed-first", k80 + "\n" + k48 + "\n" + k48 + "\n"},
		{"badb64", k48 + "\n!!!!\n" + k48 + "\n" + k48 + "\n"},
		{"crlf", strings.Repeat(k48+"\r\n", 3)},
		{"noeol", k48 + "\n" + k48 + "\n" + k48},
		{"empty-line", k48 + "\n\n" + k48 + "\n" + k48 + "\n"},
		{"short", key(47, 3) + "\n" + k48 + "\n" + k48 + "\n"},
		{"long", key(96, 4) + "\n" + k48 + "\n" + k48 + "\n"},
		{"unpadded", strings.TrimRight(key(47, 5), "=") + "\n" + k48 + "\n" + k48 + "\n"},
		{"empty", ""},
		{"blank-lines", "\n\n\n"},
		{"blank-first", "\n" + k48 + "\n" + k48 + "\n" + k48 + "\n"},
	}
	var cfgs []struct{ name, cfg string }
	for _, f := range append(files, struct{ name, text string }{"missing", ""}) {
		p := filepath.Join(dir, f.name)
		if f.name != "missing" {
			if err := os.WriteFile(p, []byte(f.text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfgs = append(cfgs, struct{ name, cfg string }{f.name, "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n" +
			"frontend fe\n  bind 127.0.0.1:8443 ssl crt " + crt + " tls-ticket-keys " + p + "\n"})
	}
	agree := diffConfigs(t, bin, cfgs)
	t.Logf("tls-ticket-keys files with HAProxy's messages and exit code: %d/%d agree", agree, len(cfgs))
	fmt.Printf("differential tls-ticket-keys files: %d/%d agree\n", agree, len(cfgs))
}
