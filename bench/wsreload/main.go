// Command wsreload measures what reloads cost a master-worker proxy that
// carries long-lived WebSockets: it opens tunnels in batches, one batch
// per configuration generation, reloads the proxy (SIGUSR2 to the
// master) between batches, times each reload until the new
// configuration answers, then checks every tunnel still echoes and
// reports the processes and memory of the proxy's process tree.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18950", "proxy address")
	master := flag.Int("master", 0, "pid of the proxy's master process")
	tmpl := flag.String("template", "", "configuration template; GEN is replaced by the generation")
	cfgPath := flag.String("cfg", "", "configuration file the proxy reads")
	total := flag.Int("n", 10000, "tunnels to open in all")
	reloads := flag.Int("reloads", 100, "reloads")
	label := flag.String("label", "proxy", "name in the report")
	mcli := flag.String("mcli", "", "master CLI socket: each reload waits until it answers (HAProxy's re-executed master loses a SIGUSR2 sent before)")
	flag.Parse()
	text, err := os.ReadFile(*tmpl)
	if err != nil || *master == 0 || *cfgPath == "" {
		fmt.Fprintln(os.Stderr, "wsreload: -master, -template and -cfg are required")
		os.Exit(2)
	}
	batch := *total / *reloads
	var conns []*websocket.Conn
	var times []time.Duration
	failedOpen := 0
	for gen := 0; gen <= *reloads; gen++ {
		if gen > 0 {
			cfg := strings.ReplaceAll(string(text), "GEN", strconv.Itoa(gen))
			if err := os.WriteFile(*cfgPath, []byte(cfg), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if *mcli != "" && !masterUp(*mcli, 60*time.Second) {
				fmt.Fprintf(os.Stderr, "%s: the master CLI does not answer\n", *label)
				os.Exit(1)
			}
			t0 := time.Now()
			syscall.Kill(*master, syscall.SIGUSR2)
			if !waitGen(*addr, gen, 60*time.Second) {
				fmt.Fprintf(os.Stderr, "%s: generation %d never answered\n", *label, gen)
				os.Exit(1)
			}
			times = append(times, time.Since(t0))
		}
		if gen < *reloads {
			c, failed := openBatch(*addr, batch)
			conns = append(conns, c...)
			failedOpen += failed
		}
	}
	// Old processes without tunnels have time to leave.
	time.Sleep(3 * time.Second)
	alive := echoAll(conns)
	procs, rss, pss := tree(*master)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	pct := func(p float64) time.Duration { return times[int(p*float64(len(times)-1))] }
	fmt.Printf("%s: tunnels %d opened (%d failed), %d alive after %d reloads; reload to new config serving: median %v, p90 %v, max %v\n",
		*label, len(conns), failedOpen, alive, *reloads, pct(0.5).Round(time.Microsecond*100), pct(0.9).Round(time.Microsecond*100), times[len(times)-1].Round(time.Microsecond*100))
	fmt.Printf("%s: processes %d, RSS sum %.1f MiB, PSS sum %.1f MiB\n", *label, procs, float64(rss)/1024, float64(pss)/1024)
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if n, _, _ := tree(*master); n <= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	procs, rss, pss = tree(*master)
	fmt.Printf("%s: after the tunnels closed: processes %d, RSS sum %.1f MiB, PSS sum %.1f MiB\n", *label, procs, float64(rss)/1024, float64(pss)/1024)
}

// masterUp waits until the master CLI answers "show proc".
func masterUp(path string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(c, "show proc\n")
			b, _ := io.ReadAll(c)
			c.Close()
			if strings.Contains(string(b), "master") {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// waitGen polls GET /gen until the proxy answers "gen N".
func waitGen(addr string, gen int, d time.Duration) bool {
	want := "gen " + strconv.Itoa(gen)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if body, err := get(addr); err == nil && strings.TrimSpace(body) == want {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return false
}

func get(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "GET /gen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// openBatch opens n tunnels, 64 handshakes at a time.
func openBatch(addr string, n int) ([]*websocket.Conn, int) {
	out := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			d := websocket.Dialer{HandshakeTimeout: 20 * time.Second}
			if c, _, err := d.Dial("ws://"+addr+"/", nil); err == nil {
				out[i] = c
			}
		}(i)
	}
	wg.Wait()
	var ok []*websocket.Conn
	for _, c := range out {
		if c != nil {
			ok = append(ok, c)
		}
	}
	return ok, n - len(ok)
}

// echoAll sends a message on every tunnel and counts the echoes.
func echoAll(conns []*websocket.Conn) int {
	var alive atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *websocket.Conn) {
			defer wg.Done()
			defer func() { <-sem }()
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if c.WriteMessage(websocket.TextMessage, []byte("ping")) != nil {
				return
			}
			if _, m, err := c.ReadMessage(); err == nil && string(m) == "ping" {
				alive.Add(1)
			}
		}(c)
	}
	wg.Wait()
	return int(alive.Load())
}

// tree returns the number of processes rooted at pid, and the sums of
// their VmRSS and Pss, in KiB.
func tree(pid int) (n int, rss, pss int64) {
	list := []int{pid}
	for i := 0; i < len(list); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", list[i]))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, w := range strings.Fields(string(b)) {
				if k, err := strconv.Atoi(w); err == nil {
					list = append(list, k)
				}
			}
		}
	}
	for _, p := range list {
		r := field(fmt.Sprintf("/proc/%d/status", p), "VmRSS:")
		if r < 0 {
			continue
		}
		n++
		rss += r
		pss += max(field(fmt.Sprintf("/proc/%d/smaps_rollup", p), "Pss:"), 0)
	}
	return n, rss, pss
}

// field reads a "Name: N kB" line of a /proc file; -1 when absent.
func field(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return -1
}
