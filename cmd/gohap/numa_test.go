package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// numaCPUs reads the topology as numa_detect_topology does: several
// "nodeN" directories, walked from the last name down, the first with
// online CPUs in its cpumap (32-bit words, lowest last) wins.
func TestNUMACPUs(t *testing.T) {
	mk := func(online string, nodes map[string]string) string {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "cpu"), 0o755)
		os.WriteFile(filepath.Join(root, "cpu", "online"), []byte(online+"\n"), 0o644)
		os.MkdirAll(filepath.Join(root, "node", "power"), 0o755)
		os.WriteFile(filepath.Join(root, "node", "possible"), []byte("0-1\n"), 0o644)
		for n, m := range nodes {
			os.MkdirAll(filepath.Join(root, "node", n), 0o755)
			os.WriteFile(filepath.Join(root, "node", n, "cpumap"), []byte(m+"\n"), 0o644)
		}
		return root
	}
	cases := []struct {
		name, online string
		nodes        map[string]string
		want         []int
	}{
		{"one node", "0-7", map[string]string{"node0": "ff"}, nil},
		{"two nodes", "0-7", map[string]string{"node0": "0f", "node1": "f0"}, []int{4, 5, 6, 7}},
		{"last node offline", "0-3", map[string]string{"node0": "0f", "node1": "f0"}, []int{0, 1, 2, 3}},
		{"name order", "0-40", map[string]string{"node0": "1", "node1": "2", "node10": "00000001,00000000", "nodex": "4"}, []int{32}},
		{"partly online", "0-2,6", map[string]string{"node0": "0f", "node1": "f0"}, []int{6}},
	}
	for _, c := range cases {
		if got := numaCPUs(mk(c.online, c.nodes)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := numaCPUs(filepath.Join(t.TempDir(), "none")); got != nil {
		t.Errorf("no sysfs: %v", got)
	}
}
