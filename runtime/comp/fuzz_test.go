package comp

import "testing"

// FuzzAcceptEncoding checks that no Accept-Encoding value makes the parser
// panic and that it only picks configured algorithms with q in (0, 1000].
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0.5, deflate", "*;q=0", `"a,b", gzip;q`, ",,,", "deflate;q=1.000", "gzip;level=1;q=0.3"} {
		f.Add(s)
	}
	cfg := &Config{Algos: []Algo{Gzip, Deflate, RawDeflate, Identity}}
	f.Fuzz(func(t *testing.T, v string) {
		a, q := cfg.AcceptEncoding([]byte(v))
		if (a == None) != (q == 0) || q < 0 || q > 1000 {
			t.Fatalf("%q gives %v with q %d", v, a, q)
		}
	})
}
