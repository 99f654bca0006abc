package logfmt

import "testing"

func TestInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3": "1.2.0.3", "10.1": "10.0.0.1", "127": "0.0.0.127", "1.2.3.4": "1.2.3.4",
		"010.1": "8.0.0.1", "1.65535": "1.0.255.255", "1.2.65535": "1.2.255.255",
		"1.2.3.256": "", "1.2.65536": "", "1..2": "", "1.2.3.4.5": "", "a.b": "", "": "",
	} {
		a, err := InetAton(in)
		got := ""
		if err == nil {
			got = a.String()
		}
		if got != want {
			t.Errorf("InetAton(%q) = %q, want %q", in, got, want)
		}
	}
	// A log target written so is that address.
	tc, err := ParseTarget([]string{"log", "1.2.3:5140", "local0"})
	if err != nil || tc.Addr.String() != "1.2.0.3:5140" {
		t.Fatalf("log 1.2.3:5140: %v %v", tc.Addr, err)
	}
}
