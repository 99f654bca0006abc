package stick

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// Key is a table key in its stored form: 4 bytes in network order for ip,
// 16 for ipv6, 4 in host (little-endian) order for integer, the bytes of
// a string or binary key. Keys of fixed-size types live inside the value;
// string and binary keys refer to the caller's bytes, which must not change
// until the lookup returns. The zero Key is an empty string/binary key.
type Key struct {
	fixed [16]byte
	n     uint8
	typ   KeyType // of a fixed-size key
	data  []byte
}

// Bytes returns the key's stored bytes.
func (k *Key) Bytes() []byte {
	if k.data != nil {
		return k.data
	}
	return k.fixed[:k.n]
}

// IPKey returns the key of an address for a table of type t: ip tables take
// IPv4 addresses and IPv4-mapped IPv6 ones, ipv6 tables store IPv4 as
// IPv4-mapped. ok is false when the address cannot be converted, as
// HAProxy's ipv6 to ipv4 cast fails.
func IPKey(t KeyType, a netip.Addr) (k Key, ok bool) {
	switch t {
	case KeyIP:
		if a.Is4In6() {
			a = a.Unmap()
		}
		if !a.Is4() {
			return k, false
		}
		b := a.As4()
		copy(k.fixed[:], b[:])
		k.n, k.typ = 4, KeyIP
	case KeyIPv6:
		b := a.As16()
		copy(k.fixed[:], b[:])
		k.n, k.typ = 16, KeyIPv6
	default:
		return k, false
	}
	return k, true
}

// IntKey returns the key of an integer for an integer table: HAProxy keeps
// the low 32 bits.
func IntKey(v int64) Key {
	var k Key
	binary.LittleEndian.PutUint32(k.fixed[:], uint32(v))
	k.n, k.typ = 4, KeyInteger
	return k
}

// BytesKey returns a string or binary key referring to b. The table cuts
// string keys at the first NUL and at the key length, and pads or cuts
// binary keys to the key length.
func BytesKey(b []byte) Key {
	if b == nil {
		b = []byte{}
	}
	return Key{data: b}
}

// normalize returns the bytes under which a key is stored in the table,
// into scratch when padding is needed, or nil for a key of another type.
func (t *Table) normalize(k *Key, scratch *[64]byte) []byte {
	b := k.Bytes()
	switch t.cfg.Type {
	case KeyIP, KeyIPv6, KeyInteger:
		if k.data != nil || k.typ != t.cfg.Type || len(b) != t.cfg.KeySize {
			return nil
		}
	case KeyString:
		if k.data == nil && k.n > 0 {
			return nil
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if max := t.cfg.KeySize - 1; len(b) > max {
			b = b[:max]
		}
	case KeyBinary:
		if k.data == nil && k.n > 0 {
			return nil
		}
		if len(b) > t.cfg.KeySize {
			b = b[:t.cfg.KeySize]
		} else if len(b) < t.cfg.KeySize {
			var p []byte
			if t.cfg.KeySize <= len(scratch) {
				p = scratch[:t.cfg.KeySize]
			} else {
				p = make([]byte, t.cfg.KeySize)
			}
			n := copy(p, b)
			clear(p[n:])
			b = p
		}
	}
	return b
}
