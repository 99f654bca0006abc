package freeport

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A port one process claimed is not handed to another while it lives.
func TestClaimAcrossProcesses(t *testing.T) {
	if os.Getenv("FREEPORT_CHILD") != "" {
		// The child tries the port its parent holds.
		var p int
		for _, c := range os.Getenv("FREEPORT_CHILD") {
			p = p*10 + int(c-'0')
		}
		if claim(p) {
			os.Stdout.WriteString("claimed")
		} else {
			os.Stdout.WriteString("refused")
		}
		return
	}
	addr, err := Addr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	run := func(p string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestClaimAcrossProcesses$")
		cmd.Env = append(os.Environ(), "FREEPORT_CHILD="+p)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(strings.Split(string(out), "\n")[0])
	}
	if got := run(port); !strings.HasPrefix(got, "refused") {
		t.Fatalf("another process got port %s this one holds: %q", port, got)
	}
	// A port nobody holds is claimed (the child's claim ends with it).
	free := "19999"
	if got := run(free); !strings.HasPrefix(got, "claimed") {
		t.Fatalf("port %s, held by none, was refused: %q", free, got)
	}
}
