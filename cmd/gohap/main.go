// Command gohap is a drop-in replacement for the haproxy binary.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
