package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadTicketKeys reads arbitrary key files: an error or a ring of
// TLSTicketsNo keys of one size, 48 or 80 bytes, never a panic.
func FuzzLoadTicketKeys(f *testing.F) {
	k48 := strings.Repeat("AAAA", 16) + "\n"
	for _, s := range []string{k48 + k48 + k48, k48 + k48, "", "\n\n\n", k48 + "!!!\n" + k48, strings.Repeat(k48, 5) + "\r\n"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "k")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := LoadTicketKeys(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "'"+p+"' : ") {
				t.Fatalf("message %q", err)
			}
			return
		}
		size := len(k.Slots[0])
		if size != 48 && size != 80 || k.Enc < 0 || k.Enc >= TLSTicketsNo {
			t.Fatalf("ring %d-byte keys, enc %d", size, k.Enc)
		}
		for _, s := range k.Slots {
			if len(s) != size {
				t.Fatalf("keys of %d and %d bytes", size, len(s))
			}
		}
	})
}
