package parser

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
)

// TLSTicketsNo is how many ticket keys a tls-ticket-keys file supplies
// at least, and how many are in use (HAProxy's TLS_TICKETS_NO).
const TLSTicketsNo = 3

// TicketKeys are the keys of a tls-ticket-keys file as HAProxy keeps
// them: the last TLSTicketsNo lines in a ring, Slots[line%TLSTicketsNo],
// the penultimate line's key (Enc) encrypting, all decrypting.
type TicketKeys struct {
	Slots [TLSTicketsNo][]byte
	Enc   int
}

// LoadTicketKeys reads a tls-ticket-keys file: one base64 key of 48 or
// 80 bytes per line, all of one size. The error is HAProxy's text.
func LoadTicketKeys(path string) (*TicketKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("'%s' : unable to load ssl tickets keys file", path)
	}
	k := &TicketKeys{}
	size, n := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		key := make([]byte, base64.StdEncoding.DecodedLen(len(line)))
		dn, err := base64.StdEncoding.Strict().Decode(key, line)
		if err != nil || dn > 80 {
			return nil, fmt.Errorf("'%s' : unable to decode base64 key on line %d", path, n+1)
		}
		if size == 0 && (dn == 48 || dn == 80) {
			size = dn
		} else if dn != 48 && dn != 80 || dn != size {
			return nil, fmt.Errorf("'%s' : wrong sized key on line %d", path, n+1)
		}
		k.Slots[n%TLSTicketsNo] = key[:dn]
		n++
	}
	if n < TLSTicketsNo {
		return nil, fmt.Errorf("'%s' : please supply at least %d keys in the tls-tickets-file", path, TLSTicketsNo)
	}
	k.Enc = (n - 2) % TLSTicketsNo
	return k, nil
}
