package ssl

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/gohap/gohap/parser"
)

// ticketRef is a tls-ticket-keys file in use (HAProxy's tls_keys_ref):
// the binds naming the same file share its keys, which "set ssl tls-key"
// rotates. Guarded by the store's mu once the configuration is loaded.
type ticketRef struct {
	file  string
	keys  parser.TicketKeys
	binds []*BindTLS
}

// goKeys are the ring's keys as Go takes them, the encrypting one first.
// Go's tickets are not OpenSSL's, so each key is hashed into Go's
// 32-byte form: instances given the same file resume each other's
// sessions.
func (r *ticketRef) goKeys() [][32]byte {
	keys := make([][32]byte, 0, parser.TLSTicketsNo)
	for i := range parser.TLSTicketsNo {
		keys = append(keys, sha256.Sum256(r.keys.Slots[(r.keys.Enc+i)%parser.TLSTicketsNo]))
	}
	return keys
}

// ticketRef returns the keys of a tls-ticket-keys file, read the first
// time a bind names it; a nil store reads it each time.
func (s *Store) ticketRef(path string, bt *BindTLS) (*ticketRef, error) {
	if s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, r := range s.tickets {
			if r.file == path {
				r.binds = append(r.binds, bt)
				return r, nil
			}
		}
	}
	tk, err := parser.LoadTicketKeys(path)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	r := &ticketRef{file: path, keys: *tk, binds: []*BindTLS{bt}}
	if s != nil {
		s.tickets = append(s.tickets, r)
	}
	return r, nil
}

// setTicketKeys gives the bind's contexts new ticket keys.
func (bt *BindTLS) setTicketKeys(keys [][32]byte) {
	bt.keys = keys
	st := bt.state.Load()
	if st == nil {
		return
	}
	set := func(cc *ctxConf) {
		if cc != nil {
			cc.base.SetSessionTicketKeys(keys)
		}
	}
	set(st.initial)
	for _, e := range st.entries {
		set(e.sni)
		set(e.dflt)
	}
	if st.def != nil {
		set(st.def.dflt)
	}
}

// ticketRefs are the files in HAProxy's order: its list takes each new
// one at its head and numbers them from there.
func (s *Store) ticketRefs() []*ticketRef {
	out := make([]*ticketRef, len(s.tickets))
	for i, r := range s.tickets {
		out[len(s.tickets)-1-i] = r
	}
	return out
}

// lookupTicketRef is tlskeys_ref_lookup_ref: "#<id>" or a file name.
func (s *Store) lookupTicketRef(ref string) (int, *ticketRef) {
	refs := s.ticketRefs()
	if id, ok := strings.CutPrefix(ref, "#"); ok {
		n, err := strconv.Atoi(id)
		if err != nil || n < 0 || n >= len(refs) {
			return 0, nil
		}
		return n, refs[n]
	}
	for i, r := range refs {
		if r.file == ref {
			return i, r
		}
	}
	return 0, nil
}

// TLSKeysCLI answers "show tls-keys [id|*]" (verb show, arg the word
// after "tls-keys") and "set ssl tls-key <id|file> <key>" (verb set, arg
// the reference, key the base64 key), as HAProxy 2.6 does.
func (s *Store) TLSKeysCLI(verb, arg, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if verb == "set" {
		return s.setTLSKey(arg, key)
	}
	var b strings.Builder
	dump := func(id int, r *ticketRef) {
		fmt.Fprintf(&b, "# %d (%s)\n", id, r.file)
		for i := range parser.TLSTicketsNo {
			k := r.keys.Slots[(r.keys.Enc+2+i)%parser.TLSTicketsNo]
			fmt.Fprintf(&b, "%d.%d %s\n", id, i, base64.StdEncoding.EncodeToString(k))
		}
	}
	switch arg {
	case "":
		b.WriteString("# id (file)\n")
		for i, r := range s.ticketRefs() {
			fmt.Fprintf(&b, "%d (%s)\n", i, r.file)
		}
	case "*":
		b.WriteString("# id secret\n")
		for i, r := range s.ticketRefs() {
			dump(i, r)
		}
	default:
		id, r := s.lookupTicketRef(arg)
		if r == nil {
			return "'show tls-keys' unable to locate referenced filename\n"
		}
		b.WriteString("# id secret\n")
		dump(id, r)
	}
	return b.String()
}

// setTLSKey is cli_parse_set_tlskeys: the key replaces the oldest of
// the ring, and the newest before it becomes the encrypting one.
func (s *Store) setTLSKey(ref, key string) string {
	if ref == "" || key == "" {
		return "'set ssl tls-key' expects a filename and the new TLS key in base64 encoding.\n"
	}
	_, r := s.lookupTicketRef(ref)
	if r == nil {
		return "'set ssl tls-key' unable to locate referenced filename\n"
	}
	k, err := base64.StdEncoding.Strict().DecodeString(key)
	if err != nil {
		return "'set ssl tls-key' received invalid base64 encoded TLS key.\n"
	}
	if len(k) != len(r.keys.Slots[r.keys.Enc]) {
		return "'set ssl tls-key' received a key of wrong size.\n"
	}
	n := parser.TLSTicketsNo
	r.keys.Slots[(r.keys.Enc+2)%n] = k
	r.keys.Enc = (r.keys.Enc + 1) % n
	keys := r.goKeys()
	for _, bt := range r.binds {
		bt.setTicketKeys(keys)
	}
	return "TLS ticket key updated!\n"
}
