package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDefaultPathDifferential: "default-path config", "parent" and
// "origin DIR" make the files a configuration names relative to the
// configuration's directory, its parent or DIR (an errorfile, a
// certificate, a map), while a stats socket bound later stays relative
// to the starting directory; "current" keeps the starting directory.
// Both proxies run from a directory holding none of the files.
func TestDefaultPathDifferential(t *testing.T) {
	ref := haproxyBin()
	if ref == "" {
		t.Skip("haproxy is not installed (set HAPROXY_BIN)")
	}
	gohap, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	conf := filepath.Join(root, "etc", "conf")
	for _, d := range []string{"errors", "certs", "maps", "run"} {
		if err := os.MkdirAll(filepath.Join(conf, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(conf, "errors", "503.http"), []byte("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nfrom conf\n"), 0o644)
	os.WriteFile(filepath.Join(conf, "maps", "hosts.map"), []byte("example.com mapped\n"), 0o644)
	crt := writeSelfSigned(t, filepath.Join(conf, "certs"))
	// The parent directory's files, for "parent".
	os.MkdirAll(filepath.Join(root, "etc", "errors"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "errors", "503.http"), []byte("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nfrom parent\n"), 0o644)
	cases := []struct{ name, global, errfile, withTLS string }{
		{"config", "default-path config", "errors/503.http", "certs/" + filepath.Base(crt)},
		{"parent", "default-path parent", "errors/503.http", ""},
		{"origin", "default-path origin " + conf, "errors/503.http", "certs/" + filepath.Base(crt)},
		{"current", "default-path current", filepath.Join("etc", "conf", "errors", "503.http"), ""},
	}
	run := func(t *testing.T, bin, global, errfile, crtPath string) string {
		// Each run has its own working directory, where the relative
		// stats socket goes.
		wd := t.TempDir()
		plain, tlsAddr := freeAddr(t), freeAddr(t)
		body := fmt.Sprintf("global\n %s\n stats socket unix@run.sock\n"+
			"defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n errorfile 503 %s\n"+
			"frontend f\n bind %s\n", global, errfile, plain)
		if crtPath != "" {
			body += fmt.Sprintf(" bind %s ssl crt %s\n http-request set-var(txn.m) req.hdr(host),map(maps/hosts.map,none)\n http-request return status 200 content-type text/plain lf-string \"%%[var(txn.m)]\" if { path /map }\n", tlsAddr, crtPath)
		}
		body += " default_backend b\nbackend b\n server s 127.0.0.1:9 disabled\n"
		cfg := filepath.Join(conf, "p.cfg")
		os.WriteFile(cfg, []byte(body), 0o644)
		var out []string
		c := exec.Command(bin, "-c", "-f", cfg)
		c.Dir = wd
		b, _ := c.CombinedOutput()
		out = append(out, "check: "+strings.Join(alertLines(string(b)), " | "))
		cmd := exec.Command(bin, "-db", "-f", cfg)
		cmd.Dir = wd
		p := &proc{cmd: cmd, stderr: &syncBuf{}, done: make(chan struct{})}
		cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cmd.Wait(); close(p.done) }()
		defer func() { cmd.Process.Kill(); <-p.done }()
		client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		get := func(url string) string {
			for end := time.Now().Add(3 * time.Second); ; time.Sleep(30 * time.Millisecond) {
				r, err := client.Get(url)
				if err == nil {
					b, _ := io.ReadAll(r.Body)
					r.Body.Close()
					return fmt.Sprintf("%d %s", r.StatusCode, strings.TrimSpace(string(b)))
				}
				if time.Now().After(end) {
					return err.Error()
				}
			}
		}
		out = append(out, "plain: "+get("http://"+plain+"/"))
		if crtPath != "" {
			req := "https://" + tlsAddr + "/map"
			r, _ := http.NewRequest("GET", req, nil)
			r.Host = "example.com"
			if resp, err := client.Do(r); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				out = append(out, "tls map: "+string(b))
			} else {
				out = append(out, "tls map: "+err.Error())
			}
		}
		_, err := os.Stat(filepath.Join(wd, "run.sock"))
		out = append(out, fmt.Sprintf("socket in the starting directory: %v", err == nil))
		return strings.Join(out, "\n")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errfile := tc.errfile
			if tc.name == "current" {
				// Relative to the starting directory: the root here.
				errfile = filepath.Join(root, tc.errfile)
			}
			want := run(t, ref, tc.global, errfile, tc.withTLS)
			got := run(t, gohap, tc.global, errfile, tc.withTLS)
			if got != want {
				t.Errorf("gohap:\n%s\nHAProxy:\n%s", got, want)
			}
			if !strings.Contains(want, "plain: 503 from") {
				t.Errorf("HAProxy did not serve the errorfile:\n%s", want)
			}
		})
	}
}
