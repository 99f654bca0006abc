package ssl

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"testing"
)

// record is a TLS record of type typ around body.
func record(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// hello is a hello message of type typ with random r, padded to n bytes.
func hello(typ byte, r [32]byte, n int) []byte {
	b := append([]byte{typ, 0, 0, 0, 3, 3}, r[:]...)
	b = append(b, make([]byte, n)...)
	l := len(b) - 4
	b[1], b[2], b[3] = byte(l>>16), byte(l>>8), byte(l)
	return b
}

func TestHelloScan(t *testing.T) {
	var r1, r2 [32]byte
	for i := range r1 {
		r1[i], r2[i] = byte(i), byte(100+i)
	}
	// A HelloRetryRequest, a change_cipher_spec record shorter than a
	// hello's start, then the ServerHello that counts and an encrypted
	// record.
	stream := bytes.Join([][]byte{
		record(22, hello(helloServer, hrrRandom, 40)),
		record(20, []byte{1}),
		record(22, hello(helloServer, r2, 3)),
		record(23, bytes.Repeat([]byte{7}, 300)),
	}, nil)
	for _, chunk := range []int{1, 2, 5, 7, 43, 44, len(stream)} {
		var s helloScan
		s.want = helloServer
		for p := stream; len(p) > 0; {
			k := min(chunk, len(p))
			s.feed(p[:k])
			p = p[k:]
		}
		if !bytes.Equal(s.random(), r2[:]) {
			t.Errorf("chunks of %d: random %x, want %x", chunk, s.random(), r2)
		}
	}
	// A ClientHello, looked for on the other side.
	var s helloScan
	s.want = helloClient
	s.feed(record(22, hello(helloClient, r1, 100)))
	if !bytes.Equal(s.random(), r1[:]) {
		t.Errorf("client random %x", s.random())
	}
	// Not TLS, or a hello cut short: no random.
	for _, b := range [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), record(22, hello(helloClient, r1, 0))[:30]} {
		var s helloScan
		s.want = helloClient
		s.feed(b)
		if s.random() != nil {
			t.Errorf("%q: random %x", b, s.random())
		}
	}
}

// FuzzHelloScan: any stream, cut anywhere, gives the same answer as in
// one piece, and never more than a random.
func FuzzHelloScan(f *testing.F) {
	var r [32]byte
	f.Add(record(22, hello(helloServer, r, 10)), 3)
	f.Add(append(record(20, []byte{1}), record(22, hello(helloServer, hrrRandom, 0))...), 1)
	f.Fuzz(func(t *testing.T, b []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, cut helloScan
		whole.want, cut.want = helloServer, helloServer
		whole.feed(b)
		for p := b; len(p) > 0; {
			k := min(chunk, len(p))
			cut.feed(p[:k])
			p = p[k:]
		}
		if !bytes.Equal(whole.random(), cut.random()) {
			t.Fatalf("whole %x, in chunks of %d %x", whole.random(), chunk, cut.random())
		}
		if r := whole.random(); r != nil && len(r) != 32 {
			t.Fatalf("random of %d bytes", len(r))
		}
	})
}

// FuzzRecordLog feeds a byte stream to a recordLog whole and in chunks,
// alternating directions by record, and reads Finished messages from
// what it kept: the records are the same either way, and nothing panics.
func FuzzRecordLog(f *testing.F) {
	var r [32]byte
	f.Add(append(record(22, hello(helloClient, r, 10)), record(20, []byte{1})...), 3, byte(0))
	f.Add(append(record(23, bytes.Repeat([]byte{9}, 40)), record(22, []byte{20, 0, 0, 12})...), 1, byte(1))
	f.Fuzz(func(t *testing.T, b []byte, chunk int, suite byte) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, cut recordLog
		whole.feed(b, true)
		for p := b; len(p) > 0; {
			k := min(chunk, len(p))
			cut.feed(p[:k], true)
			p = p[k:]
		}
		if len(whole.recs) != len(cut.recs) {
			t.Fatalf("whole %d records, in chunks of %d %d", len(whole.recs), chunk, len(cut.recs))
		}
		for i := range whole.recs {
			if whole.recs[i].hdr != cut.recs[i].hdr || !bytes.Equal(whole.recs[i].body, cut.recs[i].body) {
				t.Fatalf("record %d differs in chunks of %d", i, chunk)
			}
			whole.recs[i].mine = i%2 == 0
		}
		suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02f, 0xc030}
		s := suites[int(suite)%len(suites)]
		secret := bytes.Repeat([]byte{suite}, 48)
		finished13(whole.recs, true, s, secret)
		finished12(whole.recs, suite%2 == 0, s, secret)
	})
}

// TestFinishedTLS13 opens the Finished message of records sealed under a
// handshake traffic secret, past a record of early data under another
// key and a message split across records.
func TestFinishedTLS13(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	aead, iv := trafficAEAD(0x1301, secret)
	seal := func(seq uint64, inner []byte) wireRecord {
		n := len(inner) + aead.Overhead()
		hdr := [5]byte{23, 3, 3, byte(n >> 8), byte(n)}
		nonce := recordNonce(make([]byte, len(iv)), iv, seq)
		return wireRecord{mine: true, hdr: hdr, body: aead.Seal(nil, nonce, inner, hdr[:])}
	}
	vd := bytes.Repeat([]byte{0xab}, 32)
	fin := append([]byte{20, 0, 0, 32}, vd...)
	cert := append([]byte{11, 0, 0, 3}, 1, 2, 3)
	early := wireRecord{mine: true, hdr: [5]byte{23, 3, 3, 0, 30}, body: bytes.Repeat([]byte{1}, 30)}
	recs := []wireRecord{
		{mine: true, hdr: [5]byte{22, 3, 1, 0, 4}, body: []byte{1, 0, 0, 0}},
		early,
		{mine: false, hdr: [5]byte{23, 3, 3, 0, 20}, body: make([]byte, 20)},
		{mine: true, hdr: [5]byte{20, 3, 3, 0, 1}, body: []byte{1}},
		seal(0, append(append(append([]byte(nil), cert...), fin[:10]...), 22)),
		seal(1, append(append(append([]byte(nil), fin[10:]...), 22), 0, 0, 0)),
	}
	if got := finished13(recs, true, 0x1301, secret); !bytes.Equal(got, vd) {
		t.Fatalf("verify data %x, want %x", got, vd)
	}
	if got := finished13(recs[:5], true, 0x1301, secret); got != nil {
		t.Fatalf("a cut message gave %x", got)
	}
	if got := finished13(recs, true, 0x1301, bytes.Repeat([]byte{8}, 32)); got != nil {
		t.Fatalf("another secret gave %x", got)
	}
}

// masterLog keeps the TLS 1.2 master secret of a key log.
type masterLog struct{ ms []byte }

func (m *masterLog) Write(line []byte) (int, error) {
	if label, secret, ok := keyLogLine(line); ok && label == "CLIENT_RANDOM" {
		m.ms, _ = hex.AppendDecode(nil, secret)
	}
	return len(line), nil
}

// TestSessionSecret reads the master secret out of crypto/tls's session
// encoding: the client's cached session holds the one its key log gave.
// It fails should Go change the start of that encoding.
func TestSessionSecret(t *testing.T) {
	p := newPKI(t)
	bt := mustBind(t, "ssl crt "+p.issue("ec.pem", certSpec{cn: "ec"})+" ssl-max-ver TLSv1.2", nil)
	addr := serveTLS(t, bt.Config)
	log := &masterLog{}
	cache := &countingCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	if _, err := handshake(addr, &tls.Config{InsecureSkipVerify: true, ClientSessionCache: cache, KeyLogWriter: log}); err != nil {
		t.Fatal(err)
	}
	st, _ := cache.Get(cache.key)
	if st == nil {
		t.Fatal("no session kept")
	}
	_, ss, err := st.ResumptionState()
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionSecret(ss); len(log.ms) != 48 || !bytes.Equal(got, log.ms) {
		t.Fatalf("session secret %x, key log %x", got, log.ms)
	}
}
