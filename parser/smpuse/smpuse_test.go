package smpuse

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func haproxyBin() string {
	if b := os.Getenv("HAPROXY_BIN"); b != "" {
		return b
	}
	b, _ := exec.LookPath("haproxy")
	return b
}

func dump(t *testing.T, what string) []string {
	bin := haproxyBin()
	if bin == "" {
		t.Skip("no haproxy binary: set HAPROXY_BIN or install haproxy")
	}
	out, _ := exec.Command(bin, "-dK"+what, "-q", "-c", "-f", "/dev/null").CombinedOutput()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// TestFetchPlacesMatchHAProxy compares the places computed from each
// fetch's sources with the table "haproxy -dKsmp" prints.
func TestFetchPlacesMatchHAProxy(t *testing.T) {
	n := 0
	for _, l := range dump(t, "smp") {
		if !strings.HasPrefix(l, "[ ") {
			continue
		}
		end := strings.Index(l, " ] ")
		marks := strings.ReplaceAll(l[2:end], " ", "")
		name := l[end+3:]
		name = name[:strings.IndexAny(name, "(:")]
		_, val, ok := Fetch(name)
		if !ok {
			t.Errorf("%s: missing from the table", name)
			continue
		}
		var want Val
		for i, c := range marks {
			if c == 'Y' {
				want |= 1 << i
			}
		}
		if val != want {
			t.Errorf("%s: places %022b, haproxy %022b", name, val, want)
		}
		n++
	}
	if n < 400 {
		t.Fatalf("only %d fetches compared", n)
	}
}

// TestACLFetchesMatchHAProxy compares the ACL keyword to fetch mapping
// with "haproxy -dKacl".
func TestACLFetchesMatchHAProxy(t *testing.T) {
	n := 0
	for _, l := range dump(t, "acl") {
		kw, rest, ok := strings.Cut(l, " = ")
		if !ok {
			continue
		}
		want := strings.Fields(rest)[0]
		if got, _ := ACLFetch(kw); got != want {
			t.Errorf("%s: fetch %q, haproxy %q", kw, got, want)
		}
		n++
	}
	if n < 50 {
		t.Fatalf("only %d ACL keywords compared", n)
	}
}

func TestNames(t *testing.T) {
	use, val, _ := Fetch("path")
	if use.String() != "HTTP request headers" || val&ValFE_HRS_HDR != 0 {
		t.Errorf("path: %q %b", use, val)
	}
	if got := (UseHRQHV | UseHRSHV).String(); got != "HTTP request headers,HTTP response headers" {
		t.Errorf("hdr sources: %q", got)
	}
	if got := (ValFE_HRS_HDR | ValBE_HRS_HDR).String(); got != "backend http-response header rule" {
		t.Errorf("place name: %q", got)
	}
	if kw, use, _, ok := ACLExpr("hdr_beg(host)"); !ok || kw != "hdr_beg" || use != UseHRQHV {
		t.Errorf("hdr_beg: %s %v %v", kw, use, ok)
	}
	if kw, _, _, ok := ACLExpr("req.hdr(host),lower"); !ok || kw != "req.hdr" {
		t.Errorf("req.hdr: %s %v", kw, ok)
	}
}
