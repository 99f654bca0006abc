package acl

import "testing"

// TestXXH3 checks the values of HAProxy's reg-test
// sample_fetches/hashes.vtc (bytes 0 to 255) and of xxHash's sanity
// test, whose input is a byte stream from a fixed generator, over every
// length class.
func TestXXH3(t *testing.T) {
	key := make([]byte, 256)
	for i := range key {
		key[i] = byte(i)
	}
	tx := &Txn{}
	for _, c := range []struct{ expr, want string }{
		{"var(txn.key),xxh3", "-7779787747613135503"},
		{"var(txn.key),xxh3(1)", "5930632130106562027"},
	} {
		tx.Vars = &Vars{}
		tx.Vars.Set(scopeOf(t, "txn.key"), "key", key)
		if got := evalStr(t, tx, nil, c.expr); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	// xxHash's sanityCheck buffer and XXH3_64bits_withSeed results
	const prime32, prime64 = 2654435761, 11400714785074694797
	buf := make([]byte, 2367)
	gen := uint64(prime32)
	for i := range buf {
		buf[i] = byte(gen >> 56)
		gen *= prime64
	}
	for _, c := range []struct {
		n    int
		seed uint64
		want uint64
	}{
		{0, 0, 0x2D06800538D394C2},
		{0, prime64, 0xA8A6B918B2F0364A},
		{1, 0, 0xC44BDFF4074EECDB},
		{1, prime64, 0x032BE332DD766EF8},
		{6, 0, 0x27B56A84CD2D7325},
		{6, prime64, 0x84589C116AB59AB9},
		{12, 0, 0xA713DAF0DFBB77E7},
		{12, prime64, 0xE7303E1B2336DE0E},
		{24, 0, 0xA3FE70BF9D3510EB},
		{24, prime64, 0x850E80FC35BDD690},
		{48, 0, 0x397DA259ECBA1F11},
		{48, prime64, 0xADC2CBAA44ACC616},
		{80, 0, 0xBCDEFBBB2C47C90A},
		{80, prime64, 0xC6DD0CB699532E73},
		{195, 0, 0xCD94217EE362EC3A},
		{195, prime64, 0xBA68003D370CB3D9},
		{403, 0, 0xCDEB804D65C6DEA4},
		{403, prime64, 0x6259F6ECFD6443FD},
		{512, 0, 0x617E49599013CB6B},
		{512, prime64, 0x3CE457DE14C27708},
		{2048, 0, 0xDD59E2C3A5F038E0},
		{2048, prime64, 0x66F81670669ABABC},
		{2240, 0, 0x6E73A90539CF2948},
		{2240, prime64, 0x757BA8487D1B5247},
		{2367, 0, 0xCB37AEB9E5D361ED},
		{2367, prime64, 0xD2DB3415B942B42A},
	} {
		if got := xxh3(buf[:c.n], c.seed); got != c.want {
			t.Errorf("xxh3(%d bytes, %#x) = %#x, want %#x", c.n, c.seed, got, c.want)
		}
	}
}

func scopeOf(t *testing.T, name string) uint8 {
	sc, _, ok := ParseVarName(name)
	if !ok {
		t.Fatalf("variable %s", name)
	}
	return sc
}

func BenchmarkXXH3(b *testing.B) {
	buf := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for i := 0; i < b.N; i++ {
		xxh3(buf, uint64(i))
	}
}
