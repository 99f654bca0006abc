package runtime_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startPHPFPM runs php-fpm on a free port with a docroot holding
// index.php, which prints its CGI variables and request body, and
// log.php, which writes to the error stream (FastCGI STDERR).
func startPHPFPM(t *testing.T) (addr, docroot string) {
	addr, _, docroot = startPHPFPMUnix(t)
	return addr, docroot
}

// startPHPFPMUnix is startPHPFPM with a second pool on a unix socket.
func startPHPFPMUnix(t *testing.T) (addr, sock, docroot string) {
	bin := os.Getenv("PHP_FPM_BIN")
	if bin == "" {
		for _, c := range []string{"php-fpm", "php-fpm8.2", "/usr/sbin/php-fpm8.2"} {
			if p, err := exec.LookPath(c); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		t.Skip("php-fpm not installed (set PHP_FPM_BIN): no PHP application to run")
	}
	dir := t.TempDir()
	docroot = filepath.Join(dir, "www")
	os.MkdirAll(filepath.Join(docroot, "sub"), 0o755)
	os.MkdirAll(filepath.Join(docroot, "auth"), 0o755)
	index := `<?php
header("X-PHP: yes");
$keys = ["SCRIPT_NAME", "SCRIPT_FILENAME", "PATH_INFO", "PATH_TRANSLATED", "DOCUMENT_ROOT", "QUERY_STRING",
  "REQUEST_METHOD", "REQUEST_URI", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PROTOCOL",
  "REMOTE_ADDR", "GATEWAY_INTERFACE", "HTTP_HOST", "HTTP_AUTHORIZATION", "HTTP_PROXY", "MY_PARAM", "HTTPS"];
foreach ($keys as $k) { echo $k, "=", isset($_SERVER[$k]) ? $_SERVER[$k] : "<unset>", "\n"; }
echo "GET=", json_encode($_GET), "\n";
echo "POST=", json_encode($_POST), "\n";
echo "BODY=", file_get_contents("php://input"), "\n";
if (isset($_GET["status"])) { http_response_code((int)$_GET["status"]); }
`
	os.WriteFile(filepath.Join(docroot, "index.php"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(docroot, "sub", "index.php"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(docroot, "auth", "index.php"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(docroot, "log.php"), []byte(`<?php error_log("from php stderr"); echo "logged\n";`), 0o644)
	addr = freePort(t)
	conf := fmt.Sprintf(`[global]
error_log = %s/fpm.log
daemonize = no
[www]
listen = %s
pm = static
pm.max_children = 12
catch_workers_output = no
php_admin_value[log_errors] = On
php_admin_value[display_errors] = Off
[unix]
listen = %s/php.sock
pm = static
pm.max_children = 4
`, dir, addr, dir)
	cf := filepath.Join(dir, "fpm.conf")
	os.WriteFile(cf, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-R", "-n", "-y", cf)
	// Its own process group: the cleanup kills the workers with the
	// master, which would otherwise leave them listening.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Skipf("php-fpm does not start: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("php-fpm did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sock = filepath.Join(dir, "php.sock")
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return addr, sock, docroot
}

// A server on a unix socket (php-fpm's usual listen) works as a TCP one.
func TestFCGIPHPUnixSocket(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the PHP exchanges with")
	}
	_, sock, docroot := startPHPFPMUnix(t)
	date := regexp.MustCompile(`(?mi)^date: .*\n`)
	run := func(start func(cfg, fe string)) string {
		fe := freePort(t)
		start(fcgiCfg(fe, sock, "php", " docroot "+docroot+"\n index index.php\n"), fe)
		resp, body := roundTrip(t, fe, "GET /sub/?k=v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		return fmt.Sprintf("%d %s\n%s", resp.StatusCode, resp.Header.Get("X-Php"), date.ReplaceAllString(body, ""))
	}
	got := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	if got != want || !strings.Contains(got, "SCRIPT_NAME=/sub/index.php") {
		t.Errorf("gohap:\n%s\nhaproxy:\n%s", got, want)
	}
}

// A PHP application behind gohap and behind HAProxy sees the same CGI
// variables and gives the client the same responses; what it writes to
// its error stream goes to the log-stderr target with the
// application's name as tag.
func TestFCGIPHPDifferential(t *testing.T) {
	if haproxyBin() == "" {
		t.Skip("haproxy not installed (set HAPROXY_BIN): no reference to compare the PHP exchanges with")
	}
	php, docroot := startPHPFPM(t)
	reqs := []string{
		"GET /index.php?a=1&b=two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /index.php/extra/info?q=%2F HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /index.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\nConnection: close\r\n\r\nhello=world&x=1",
		"GET /index.php?status=404 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\nProxy: evil\r\nConnection: close\r\n\r\n",
		"GET /auth/index.php HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\nConnection: close\r\n\r\n",
		"GET /missing.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /log.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	}
	date := regexp.MustCompile(`(?mi)^date: .*\n`)
	run := func(start func(cfg, fe string)) (out []string, logs []string) {
		sink := newLogSink(t)
		fe := freePort(t)
		start(fcgiCfg(fe, php, "php", fmt.Sprintf(` docroot %s
 index index.php
 path-info ^(/.+\.php)(/.*)?$
 set-param MY_PARAM %%[path]
 pass-header Authorization if { path_beg /auth }
 log-stderr %s local0
`, docroot, sink.addr())), fe)
		for _, r := range reqs {
			c, err := net.DialTimeout("tcp", fe, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			c.Write([]byte(r))
			b := make([]byte, 0, 8192)
			for {
				n, err := c.Read(b[len(b):cap(b)])
				b = b[:len(b)+n]
				if err != nil {
					break
				}
			}
			c.Close()
			out = append(out, date.ReplaceAllString(strings.ReplaceAll(string(b), "\r\n", "\n"), ""))
		}
		// The missing script's and log.php's lines; the header's time
		// and pid differ.
		pid := regexp.MustCompile(`^(<[0-9]+>).*php\[[0-9]+\]: `)
		for i := 0; i < 2; i++ {
			if l, ok := sink.next(5 * time.Second); ok {
				logs = append(logs, pid.ReplaceAllString(l, "${1}php[pid]: "))
			}
		}
		sort.Strings(logs)
		return out, logs
	}
	got, gotLogs := run(func(cfg, fe string) { startGohap(t, cfg, nil) })
	want, wantLogs := run(func(cfg, fe string) { startHAProxy(t, cfg, fe) })
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %q:\ngohap:\n%s\nhaproxy:\n%s", reqs[i], got[i], want[i])
		}
	}
	if strings.Join(gotLogs, "\n") != strings.Join(wantLogs, "\n") || len(gotLogs) != 2 || !strings.HasPrefix(gotLogs[0], "<131>php[pid]: ") || !strings.Contains(strings.Join(gotLogs, ""), "from php stderr") {
		t.Errorf("stderr logs:\ngohap:   %q\nhaproxy: %q", gotLogs, wantLogs)
	}
	all := strings.Join(got, "\n")
	for _, w := range []string{"SCRIPT_NAME=/sub/index.php", "PATH_INFO=/extra/info", `POST={"hello":"world","x":"1"}`,
		"HTTP/1.1 404", "HTTP_PROXY=<unset>", "HTTP_AUTHORIZATION=Basic dTpw", "MY_PARAM=/index.php"} {
		if !strings.Contains(all, w) {
			t.Errorf("no %q in gohap's responses:\n%s", w, all)
		}
	}
}
