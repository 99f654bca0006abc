package ssl

import (
	"bytes"
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
