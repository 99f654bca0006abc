package runtime_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliMapsCfg uses one map file from two converters and an ACL (so that
// the file is both a map and an ACL), an ACL file, a map of integers and
// inline ACL patterns.
const cliMapsCfg = `global
    stats socket %[1]s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind %[2]s
    acl api path_beg /api /v2
    acl bad req.hdr(user-agent) -m str -f %[3]s/agents.acl
    acl known path -M -f %[3]s/redir.map
    http-request deny if bad
    http-request redirect location %%[path,map_str(%[3]s/redir.map)] code 302 if known
    http-request return status 200 hdr x-int "%%[req.hdr(x),map_str_int(%[3]s/ints.map,0)]" hdr x-api "%%[path,map_beg(%[3]s/redir.map,none)]" if api || TRUE
`

// entryID masks the entry ids, which HAProxy prints as pointers.
var entryID = regexp.MustCompile(`0x[0-9a-f]+`)

// usedBy masks where a file is used, which gohap does not record.
var usedBy = regexp.MustCompile(`(pattern loaded from file '[^']*') used by .*?\. curr_ver`)

// inlineRef is a line of "show acl" for the patterns of one ACL line.
var inlineRef = regexp.MustCompile(`(?m)^\d+ \(\) acl .*\n`)

// cliMapsSide is one proxy under test: its CLI socket and frontend.
type cliMapsSide struct {
	name, sock, fe string
	// dir holds the map files, which the commands name by path.
	dir string
}

// startCLISides starts HAProxy, then gohap, each on the config cfg
// returns for the side's own socket and frontend port.
func startCLISides(t *testing.T, cfg func(s *cliMapsSide) string) []cliMapsSide {
	t.Helper()
	var sides []cliMapsSide
	for _, name := range []string{"haproxy", "gohap"} {
		s := cliMapsSide{name: name, sock: filepath.Join(t.TempDir(), "s.sock"), fe: freePort(t)}
		text := cfg(&s)
		if name == "haproxy" {
			startHAProxy(t, text, s.fe)
			waitUnixSocket(s.sock)
		} else {
			startGohap(t, text, nil)
		}
		sides = append(sides, s)
	}
	return sides
}

func (s cliMapsSide) send(t *testing.T, req string) string {
	return cliSend(t, "unix", s.sock, req)
}

// firstID returns the id of the first entry "show map" lists for ref.
func (s cliMapsSide) firstID(t *testing.T, ref string) string {
	out := s.send(t, "show map "+ref+"\n")
	if i := strings.IndexByte(out, ' '); i > 0 && strings.HasPrefix(out, "0x") {
		return out[:i]
	}
	t.Fatalf("%s: no entry in %q", s.name, out)
	return ""
}

// request sends a GET and returns the status and the headers named.
func (s cliMapsSide) request(t *testing.T, path, ua, x string) string {
	req, _ := http.NewRequest("GET", "http://"+s.fe+path, nil)
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X", x)
	cl := &http.Client{Timeout: 3 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	resp.Body.Close()
	return fmt.Sprintf("%d loc=%s int=%s api=%s", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Int"), resp.Header.Get("X-Api"))
}

func writeMapFiles(t *testing.T) string {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"redir.map":  "/old /new\n# comment\n/api/v1   /api/v2  \n/gone\n",
		"agents.acl": "curl\nBad Agent\n",
		"ints.map":   "a 1\nb 2\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCLIMapsDifferential: the map and ACL commands answer as HAProxy
// 2.6's, byte for byte once entry ids are masked, and the traffic sees
// each change at once on both.
func TestCLIMapsDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no HAProxy to compare the CLI with")
	}
	sides := startCLISides(t, func(s *cliMapsSide) string {
		s.dir = writeMapFiles(t)
		return fmt.Sprintf(cliMapsCfg, s.sock, s.fe, s.dir)
	})
	steps := []struct {
		cmd  string
		path string // a request after the command, when set
		ua   string
		x    string
	}{
		{cmd: "show map {D}/redir.map\n", path: "/old"},
		{cmd: "show acl {D}/agents.acl\n", path: "/", ua: "curl"},
		{cmd: "show acl #0\n"},
		{cmd: "show acl #1\n"},
		{cmd: "show map #1\n"},
		{cmd: "get map {D}/redir.map /old\n"},
		{cmd: "get map {D}/redir.map /api/v1/x\n"},
		{cmd: "get acl {D}/agents.acl curl\n"},
		{cmd: "get acl {D}/agents.acl wget\n"},
		{cmd: "get acl #0 /api/x\n"},
		{cmd: "get map {D}/ints.map a\n"},
		{cmd: "get map\n"},
		{cmd: "get acl nope x\n"},
		{cmd: "add map {D}/redir.map /new2 /target\n", path: "/new2"},
		{cmd: "add map {D}/redir.map /p1 /t1 extra\n", path: "/p1"},
		{cmd: "add map {D}/redir.map <<\n/p2 /t2\n/p3\t /t 3\n\n", path: "/p3"},
		{cmd: "add map {D}/redir.map <<\n/p4\n\n"},
		{cmd: "prompt\nadd map {D}/redir.map <<\n/p5 /t5\r\n/p6 /t6\n\nshow map {D}/redir.map\n", path: "/p6"},
		{cmd: "add map {D}/redir.map k\n"},
		{cmd: "add map {D}/ints.map c notint\n"},
		{cmd: "add map {D}/ints.map c 3\n", path: "/", x: "c"},
		{cmd: "add acl {D}/agents.acl wget\n", path: "/", ua: "wget"},
		{cmd: "add acl {D}/agents.acl\n"},
		{cmd: "add acl {D}/redir.map x\n"},
		{cmd: "add acl nope x\n"},
		{cmd: "add map nope x y\n"},
		{cmd: "set map {D}/ints.map a 42\n", path: "/", x: "a"},
		{cmd: "set map {D}/ints.map a notint\n", path: "/", x: "a"},
		{cmd: "set map {D}/ints.map nokey 1\n"},
		{cmd: "set map {D}/ints.map #0x1234567 1\n"},
		{cmd: "set map {D}/ints.map #0xzz 1\n"},
		{cmd: "set map {D}/ints.map {ID:ints.map} 7\n", path: "/", x: "a"},
		{cmd: "set map {D}/ints.map {ID:ints.map} bad\n"},
		{cmd: "set map {D}/ints.map\n"},
		{cmd: "del map {D}/redir.map /old\n", path: "/old"},
		{cmd: "del map {D}/redir.map /old\n"},
		{cmd: "del map {D}/redir.map #0xzz\n"},
		{cmd: "del map {D}/redir.map #0x1234567\n"},
		{cmd: "del map {D}/ints.map {ID:ints.map}\n", path: "/", x: "a"},
		{cmd: "del acl {D}/agents.acl curl\n", path: "/", ua: "curl"},
		{cmd: "del acl {D}/ints.map a\n"},
		{cmd: "del acl {D}/agents.acl\n"},
		{cmd: "del map nope x\n"},
		{cmd: "show map {D}/redir.map\n"},
		{cmd: "show acl {D}/agents.acl\n"},
		{cmd: "show map {D}/agents.acl\n"},
		{cmd: "prepare map {D}/redir.map\n"},
		{cmd: "add map @1 {D}/redir.map /v1 /w1\n", path: "/v1"},
		{cmd: "add map @2 {D}/redir.map /v2 /w2\n"},
		{cmd: "show map @1 {D}/redir.map\n"},
		{cmd: "show map {D}/redir.map\n"},
		{cmd: "commit map {D}/redir.map\n"},
		{cmd: "commit map @2 {D}/redir.map\n"},
		{cmd: "commit map @1\n"},
		{cmd: "commit map @1 {D}/redir.map\n", path: "/v1"},
		{cmd: "show map {D}/redir.map\n", path: "/new2"},
		{cmd: "commit map @1 {D}/redir.map\n"},
		{cmd: "clear map {D}/ints.map\n", path: "/", x: "b"},
		{cmd: "show map {D}/ints.map\n"},
		{cmd: "clear map\n"},
		{cmd: "clear acl nope\n"},
		{cmd: "clear map #0\n"},
		{cmd: "show map nope\n"},
		{cmd: "show acl nope\n"},
		{cmd: "user\nadd acl {D}/agents.acl byuser\nshow acl {D}/agents.acl\n"},
		{cmd: "show map\n"},
		{cmd: "show acl\n"},
	}
	for _, st := range steps {
		var got [2]string
		for i, s := range sides {
			cmd := strings.ReplaceAll(st.cmd, "{D}", s.dir)
			for _, ref := range []string{"ints.map"} {
				if tag := "{ID:" + ref + "}"; strings.Contains(cmd, tag) {
					cmd = strings.ReplaceAll(cmd, tag, "#"+s.firstID(t, s.dir+"/"+ref))
				}
			}
			out := strings.ReplaceAll(s.send(t, cmd), s.dir, "{D}")
			out = usedBy.ReplaceAllString(entryID.ReplaceAllString(out, "0xID"), "$1 ... curr_ver")
			if strings.HasPrefix(st.cmd, "show acl\n") || strings.HasPrefix(st.cmd, "show map\n") {
				// The lists are compared on the files' lines: the ACLs
				// reading only files, and the internal ones of HAProxy's
				// HTTP client, have references of their own there, which
				// shift the ids.
				out = inlineRef.ReplaceAllString(out, "")
				out = regexp.MustCompile(`(?m)^\d+ `).ReplaceAllString(out, "ID ")
			}
			if st.path != "" {
				out += "=> " + s.request(t, st.path, st.ua, st.x)
			}
			got[i] = out
		}
		if got[0] != got[1] {
			t.Errorf("%q:\ngohap:\n%s\nhaproxy:\n%s", st.cmd, got[1], got[0])
		}
	}
}
