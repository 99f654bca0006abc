package runtime_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// A soft stop sends GOAWAY NO_ERROR on the clients' HTTP/2 connections:
// a stream in flight gets its answer, then the connection closes; an
// idle connection closes at once.
func TestH2SoftStopGoAway(t *testing.T) {
	up := startEcho(t, "up")
	fe := freePort(t)
	e := startGohap(t, fmtCfg(baseDefaults+"frontend fe\n bind %s proto h2\n default_backend be\nbackend be\n server s1 %s\n", fe, up.Addr()), nil)
	type conn struct {
		fr    *http2.Framer
		block func(...string) []byte
		c     io.Closer
	}
	open := func(path string) conn {
		c, fr, block := dialH2(t, fe)
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fr.WriteSettingsAck()
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block(":method", "GET", ":scheme", "http", ":path", path, ":authority", "a"), EndStream: true, EndHeaders: true})
		return conn{fr, block, c}
	}
	// read returns the frames up to the connection's end: whether a
	// GOAWAY NO_ERROR came, and whether stream 1 ended after it.
	read := func(cn conn, wantEnd bool) (goaway, endedAfter bool) {
		for {
			f, err := cn.fr.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("connection ended with %v, want EOF", err)
				}
				return
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				if f.ErrCode != http2.ErrCodeNo || f.LastStreamID != 1 {
					t.Fatalf("GOAWAY %v last %d, want NO_ERROR last 1", f.ErrCode, f.LastStreamID)
				}
				goaway = true
			case *http2.DataFrame:
				if f.StreamEnded() {
					endedAfter = goaway
				}
			case *http2.HeadersFrame:
				if f.StreamEnded() {
					endedAfter = goaway
				}
			}
		}
	}
	idle := open("/")
	// Its answer read: the connection is idle.
	for done := false; !done; {
		f, err := idle.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
			done = true
		}
	}
	busy := open("/sleep/400")
	time.Sleep(100 * time.Millisecond)
	e.SoftStop()
	start := time.Now()
	if goaway, _ := read(idle, false); !goaway {
		t.Fatal("the idle connection got no GOAWAY")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the idle connection closed after %v", d)
	}
	if goaway, ended := read(busy, true); !goaway || !ended {
		t.Fatalf("busy connection: GOAWAY %v, stream answered after it %v; want both", goaway, ended)
	}
}
