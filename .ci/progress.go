// Command progress reads `go test -json` on stdin and prints each package
// as it starts and ends, with the output of what failed, so that a long
// run shows where it is. The differential agreement rates are echoed.
// With a file argument, the failed top-level tests are appended to it as
// "package test" lines, and a failure no test accounts for (a build
// error, a package that failed outside its tests) as "package -".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	start := time.Now()
	stamp := func() string {
		d := time.Since(start).Round(time.Second)
		return fmt.Sprintf("[%02d:%02d]", int(d.Minutes()), int(d.Seconds())%60)
	}
	// out keeps each running test's and package's output until it ends.
	out := map[string]*strings.Builder{}
	failed := false
	var record *os.File
	if len(os.Args) > 1 {
		f, err := os.OpenFile(os.Args[1], os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		defer f.Close()
		record = f
	}
	// testFailed says which packages had a top-level test fail.
	testFailed := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			// Build errors and the like come as plain text.
			fmt.Println(sc.Text())
			if record != nil && strings.HasPrefix(sc.Text(), "FAIL") {
				fmt.Fprintln(record, "? -")
			}
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "start":
			fmt.Printf("%s start %s\n", stamp(), e.Package)
		case "output":
			// Agreement rates with HAProxy are printed as they come.
			if t := strings.TrimSpace(e.Output); strings.Contains(t, "differential check ") || strings.Contains(t, "differential HTTP: ") {
				fmt.Println(t)
			}
			b := out[key]
			if b == nil {
				b = &strings.Builder{}
				out[key] = b
			}
			b.WriteString(e.Output)
		case "pass", "skip":
			if e.Test == "" {
				fmt.Printf("%s %-4s  %s (%.1fs)\n", stamp(), map[string]string{"pass": "ok", "skip": "none"}[e.Action], e.Package, e.Elapsed)
			}
			delete(out, key)
		case "fail":
			failed = true
			if e.Test != "" {
				fmt.Printf("--- FAIL %s %s\n", e.Package, e.Test)
				if b := out[key]; b != nil {
					fmt.Print(b.String())
				}
				if record != nil && !strings.Contains(e.Test, "/") {
					testFailed[e.Package] = true
					fmt.Fprintln(record, e.Package, e.Test)
				}
			} else {
				if record != nil && !testFailed[e.Package] {
					fmt.Fprintln(record, e.Package, "-")
				}
				if b := out[key]; b != nil {
					fmt.Print(b.String())
				}
				fmt.Printf("%s FAIL  %s (%.1fs)\n", stamp(), e.Package, e.Elapsed)
			}
			delete(out, key)
		}
	}
	if failed {
		os.Exit(1)
	}
}
