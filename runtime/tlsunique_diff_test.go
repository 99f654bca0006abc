package runtime_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// finishedMsgs reads the Finished messages in the output of openssl's
// -msg option, in order: the verify data, in upper-case hex, and whether
// this end sent it (">>>").
func finishedMsgs(out string) (vd []string, sent []bool) {
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.Contains(l, "Handshake [length") || !strings.HasSuffix(strings.TrimSpace(l), "Finished") {
			continue
		}
		var hexs []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "    ") {
			i++
			hexs = append(hexs, strings.Fields(lines[i])...)
		}
		if len(hexs) > 4 {
			vd = append(vd, strings.ToUpper(strings.Join(hexs[4:], "")))
			sent = append(sent, strings.HasPrefix(l, ">>>"))
		}
	}
	return vd, sent
}

var uidHeader = regexp.MustCompile(`(?m)^x-uid: ?(\S*)\r?$|^x-res: ?(\S*)\r?$`)

// ssl_fc_unique_id and ssl_bc_unique_id against the Finished messages
// openssl's -msg shows of the same handshake: for a new session the
// peer's (the client's on a bind, the server's on a server line), for a
// resumed one this side's own, as OpenSSL's SSL_get_peer_finished and
// SSL_get_finished give them to HAProxy. openssl s_client is the client
// of the bind (its sessions saved and offered again; once without the
// extended master secret), openssl s_server -www the server.
func TestTLSUniqueIDDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference for ssl_fc_unique_id")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: no view of the Finished messages")
	}
	dir := t.TempDir()
	ca := newTestCA(t, dir, "ca")
	_, srvPEM := ca.issue(t, dir, "srv.pem", "srv.test", false)
	_, upPEM := ca.issue(t, dir, "up.pem", "up.test", false)

	// The upstream: one s_server for the whole test, its -msg output
	// read after each connection.
	upAddr := freePort(t)
	upOut := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	srv := exec.CommandContext(ctx, openssl, "s_server", "-accept", upAddr, "-cert", upPEM, "-msg", "-www", "-quiet")
	srv.Stdout, srv.Stderr = upOut, upOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Wait() })
	for end := time.Now().Add(5 * time.Second); ; {
		c, err := net.DialTimeout("tcp", upAddr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(end) {
			t.Fatalf("openssl s_server does not listen: %s", upOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	const cfg = `defaults
 mode http
 timeout connect 2s
 timeout client 5s
 timeout server 5s
frontend fe
 bind %[1]s ssl crt %[2]s
 http-request return status 200 hdr x-uid %%[ssl_fc_unique_id,hex] hdr x-res %%[ssl_fc_is_resumed]
listen back12
 bind %[3]s
 http-response set-header x-uid %%[ssl_bc_unique_id,hex]
 http-response set-header x-res %%[ssl_bc_is_resumed]
 server s %[5]s ssl verify none ssl-max-ver TLSv1.2
listen back13
 bind %[4]s
 http-response set-header x-uid %%[ssl_bc_unique_id,hex]
 http-response set-header x-res %%[ssl_bc_is_resumed]
 server s %[5]s ssl verify none
`
	verdict := func(got, res string, vd []string, sent []bool) string {
		if len(vd) < 2 {
			return fmt.Sprintf("resumed=%s finished messages: %d", res, len(vd))
		}
		// The last two Finished messages are this connection's.
		vd, sent = vd[len(vd)-2:], sent[len(sent)-2:]
		// openssl is the proxy's peer: the proxy's own Finished is the
		// one openssl received.
		wantSent := res != "1"
		want := vd[0]
		if sent[1] == wantSent {
			want = vd[1]
		}
		switch {
		case got == "":
			return "resumed=" + res + " -"
		case got == want:
			return "resumed=" + res + " ok"
		}
		return "resumed=" + res + " WRONG"
	}
	headers := func(raw string) (uid, res string) {
		for _, m := range uidHeader.FindAllStringSubmatch(raw, -1) {
			if m[1] != "" {
				uid = m[1]
			}
			if m[2] != "" {
				res = m[2]
			}
		}
		return uid, res
	}
	// An OpenSSL configuration whose clients leave out the extended
	// master secret, without which Go keeps no tls-unique for a
	// resumed session.
	noEMS := filepath.Join(dir, "noems.cnf")
	if err := os.WriteFile(noEMS, []byte("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n[sys]\nOptions = -ExtendedMasterSecret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	front := func(addr, vers, sess string, resume bool) string {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		args := []string{"s_client", "-connect", addr, "-servername", "srv.test", "-msg", "-ign_eof", vers}
		if resume {
			args = append(args, "-sess_in", sess)
		} else {
			args = append(args, "-sess_out", sess)
		}
		cmd := exec.CommandContext(c, openssl, args...)
		if strings.HasSuffix(sess, "noems.sess") {
			cmd.Env = append(os.Environ(), "OPENSSL_CONF="+noEMS)
		}
		cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		out, _ := cmd.CombinedOutput()
		uid, res := headers(string(out))
		vd, sent := finishedMsgs(string(out))
		return verdict(uid, res, vd, sent)
	}
	back := func(addr string) string {
		before := strings.Count(upOut.String(), "Finished")
		r, _ := roundTrip(t, addr, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		// s_server prints each message as it goes: both Finished
		// messages are out once the answer came.
		for end := time.Now().Add(2 * time.Second); strings.Count(upOut.String(), "Finished") < before+2 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		vd, sent := finishedMsgs(upOut.String())
		return verdict(r.Header.Get("x-uid"), r.Header.Get("x-res"), vd, sent)
	}
	run := func(start func(cfg, addr string)) []string {
		fe, b12, b13 := freePort(t), freePort(t), freePort(t)
		start(fmt.Sprintf(cfg, fe, srvPEM, b12, b13, upAddr), b13)
		var out []string
		for _, v := range []struct{ name, flag, sess string }{{"TLS 1.2", "-tls1_2", "tls12"}, {"TLS 1.2 without extended master secret", "-tls1_2", "noems"}, {"TLS 1.3", "-tls1_3", "tls13"}} {
			sess := filepath.Join(dir, v.sess+".sess")
			out = append(out, "bind, "+v.name+", new: "+front(fe, v.flag, sess, false))
			out = append(out, "bind, "+v.name+", again: "+front(fe, v.flag, sess, true))
		}
		for _, b := range []struct{ name, addr string }{{"TLS 1.2", b12}, {"TLS 1.3", b13}} {
			for i := range 3 {
				out = append(out, fmt.Sprintf("server, %s, connection %d: %s", b.name, i+1, back(b.addr)))
			}
		}
		return out
	}
	ref := run(func(cfg, addr string) { startHAProxy(t, cfg, addr) })
	got := run(func(cfg, _ string) { startGohap(t, cfg, nil) })
	// Each proxy resumes its server sessions from its own connection on
	// (HAProxy from the third with openssl s_server): lines are compared
	// on their verdicts.
	verdictOf := func(l string) string { return l[strings.LastIndex(l, " ")+1:] }
	agree := 0
	for i := range ref {
		if verdictOf(ref[i]) == verdictOf(got[i]) {
			agree++
		}
		if g := verdictOf(got[i]); g != verdictOf(ref[i]) || g != "ok" {
			t.Errorf("entry %d:\n haproxy %q\n   gohap %q", i, ref[i], got[i])
		}
	}
	t.Logf("%d of %d verdicts agree:\n haproxy:\n%s\n gohap:\n%s", agree, len(ref), strings.Join(ref, "\n"), strings.Join(got, "\n"))
	for _, side := range []string{"bind, TLS 1.2", "bind, TLS 1.3", "server, TLS 1.2", "server, TLS 1.3"} {
		resumed := false
		for _, l := range got {
			resumed = resumed || strings.HasPrefix(l, side) && strings.Contains(l, "resumed=1")
		}
		if !resumed {
			t.Errorf("%s: no session was resumed, the resumed case went untested", side)
		}
	}
}
