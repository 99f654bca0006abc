package stick

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary stick-table arguments and store lists to Parse:
// it must not panic, must stop at its first alert, and a table built from
// an accepted line must dump.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(strings.TrimPrefix(c.line, "stick-table "))
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := append([]string{"stick-table"}, strings.Fields(line)...)
		cfg, msgs := Parse(words, "fe", false)
		for i, m := range msgs {
			if !m.Warning && i != len(msgs)-1 {
				t.Fatalf("alert before the end: %v", msgs)
			}
		}
		if HasErrors(msgs) || cfg.Size > 1<<16 || cfg.KeySize > 1<<12 {
			return
		}
		tb := New(cfg, newClock(1).now)
		k := BytesKey([]byte(line))
		switch cfg.Type {
		case KeyIP, KeyIPv6, KeyInteger:
			k, _ = tb.ParseKey("1")
		}
		e := tb.Track(&k)
		if e == nil {
			t.Fatal("no entry in an empty table")
		}
		e.IncHTTPReq()
		e.IncGPC0()
		e.IncGPC(1)
		e.SetGPT0(5)
		_ = e.Line()
		e.StopCounters()
		e.Release()
	})
}

// FuzzKey types arbitrary keys at "set table" and "show table ... key" on
// every table type: no panic, and a key that was set can be shown.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "1.2.3", "300.1.1.1", "::1", "::ffff:1.2.3.4", "42", "-1", "4294967296", " 7x", "a b", "abc\x00def", "\xff\xfe", "with=equal sign", ""} {
		f.Add(s)
	}
	lines := []string{
		"stick-table type ip size 10 store gpc0",
		"stick-table type ipv6 size 10 store gpc0",
		"stick-table type integer size 10 store gpc0",
		"stick-table type string len 6 size 10 store gpc0",
		"stick-table type binary len 6 size 10 store gpc0",
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, l := range lines {
			cfg, _ := Parse(strings.Fields(l), "t", false)
			var one Tables
			one.Add(New(cfg, newClock(1).now))
			out := one.Command([]string{"set", "table", "t", "key", key, "data.gpc0", "3"}, true)
			if out != "" {
				continue
			}
			show := one.Command([]string{"show", "table", "t", "key", key}, true)
			if !strings.Contains(show, " gpc0=3") {
				t.Fatalf("%s: key %q set but shown as %q", l, key, show)
			}
		}
	})
}
