package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliSocketsCfg is a configuration with three stats sockets, in dir.
func cliSocketsCfg(t *testing.T, dir, addr, tcp string) string {
	return writeCfg(t, dir, "cli.cfg", fmt.Sprintf("global\n stats socket %s/admin.sock level admin\n stats socket %s/user.sock level user\n"+
		" stats socket ipv4@%s level operator\ndefaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
		"frontend fe\n bind %s\n http-request return status 200\n", dir, dir, tcp, addr))
}

// statsCmd sends one command to a stats socket, retrying the connect.
func statsCmd(t *testing.T, network, addr, cmd string) string {
	t.Helper()
	c := dialRetry(t, network, addr, 5*time.Second)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%s\n", cmd)
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestShowCLISockets: "show cli sockets" lists the stats sockets with
// their levels as HAProxy does, byte for byte; on the master CLI it
// answers as HAProxy's master, which has none, and help lists it.
func TestShowCLISockets(t *testing.T) {
	bin, err := gohapBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr, tcp := freeAddr(t), freeAddr(t)
	p := startBin(t, bin, "-db", "-f", cliSocketsCfg(t, dir, addr, tcp))
	got := strings.NewReplacer(dir, "DIR", tcp, "TCP").Replace(statsCmd(t, "unix", dir+"/admin.sock", "show cli sockets"))
	want := "# socket lvl processes\nunix@DIR/admin.sock admin all\nunix@DIR/user.sock user all\nipv4@TCP operator all\n\n"
	if got != want {
		t.Errorf("show cli sockets:\n%q\nwant\n%q", got, want)
	}
	p.cmd.Process.Kill()
	<-p.done
	if ref := haproxyBin(); ref != "" {
		dir := t.TempDir()
		addr, tcp := freeAddr(t), freeAddr(t)
		h := startBin(t, ref, "-db", "-f", cliSocketsCfg(t, dir, addr, tcp))
		if hgot := strings.NewReplacer(dir, "DIR", tcp, "TCP").Replace(statsCmd(t, "unix", dir+"/admin.sock", "show cli sockets")); hgot != got {
			t.Errorf("haproxy answers\n%q\ngohap\n%q", hgot, got)
		}
		h.cmd.Process.Kill()
		<-h.done
	}

	// Master CLI.
	dir = t.TempDir()
	addr = freeAddr(t)
	sock := filepath.Join(dir, "m.sock")
	m := startGohap(t, "-W", "-S", sock, "-f", proxyCfg(t, dir, addr, "clisock"))
	waitServing(t, addr, "clisock", m)
	if out := masterCmd(t, sock, "show cli sockets"); out != "\n" {
		t.Errorf("master show cli sockets: %q", out)
	}
	// The worker lists the socket the master reaches it on.
	if out := masterCmd(t, sock, "@1 show cli sockets"); !strings.HasPrefix(out, "# socket lvl processes\nabns@gohap-master-") || !strings.HasSuffix(out, " admin all\n\n") {
		t.Errorf("@1 show cli sockets: %q", out)
	}
	help := masterCmd(t, sock, "help")
	if ref := haproxyBin(); ref != "" {
		hsock := filepath.Join(dir, "h.sock")
		h := startBin(t, ref, "-W", "-S", hsock, "-f", writeCfg(t, dir, "h.cfg", "defaults\n mode http\n timeout connect 1s\n timeout client 5s\n timeout server 5s\n"+
			"frontend fe\n bind "+freeAddr(t)+"\n http-request return status 200\n"))
		hhelp := masterCmd(t, hsock, "help")
		for deadline := time.Now().Add(10 * time.Second); hhelp == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			// The socket listens before the master serves it.
			hhelp = masterCmd(t, hsock, "help")
		}
		if hhelp != help {
			t.Errorf("master help:\n%s\nhaproxy:\n%s", help, hhelp)
		}
		if out := masterCmd(t, hsock, "show cli sockets"); out != "\n" {
			t.Errorf("haproxy's master show cli sockets: %q", out)
		}
		h.cmd.Process.Kill()
		<-h.done
	} else if !strings.Contains(help, "  show cli sockets                        : dump list of cli sockets\n") {
		t.Errorf("help:\n%s", help)
	}
}
