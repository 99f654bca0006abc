package logging

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gohap/gohap/parser/logfmt"
)

func baseRecord() *Record {
	return &Record{
		AcceptDate: time.Date(2024, 3, 5, 7, 8, 9, 123456000, time.UTC),
		THandshake: 1, TIdle: 2, TRequest: 10, TQueue: 12, TConnect: 15, TData: 40, TClose: 100,
		Client:       netip.MustParseAddrPort("192.0.2.7:40000"),
		Frontend:     netip.MustParseAddrPort("[2001:db8::1]:443"),
		FrontendName: "fe", BackendName: "be", ServerName: "s1",
		Status: 200, BytesIn: 120, BytesOut: 4567,
		Flags: SFErrNone | SFFinstL, HasTxn: true, TxFlags: TxCkValid | TxSckInserted, CookieEnabled: true,
		ActConn: 3, FeConn: 2, BeConn: 1, SrvConn: 1, Retries: 0, SrvQueue: 0, BckQueue: 0,
		ReqCaps:     [][]byte{[]byte("a|b"), nil},
		ResCaps:     [][]byte{[]byte("")},
		RequestLine: []byte("GET /p?q=1 HTTP/1.1"),
		ReqCounter:  0x1a, LogCount: 5, Hostname: "h", PID: 77,
	}
}

func render(t testing.TB, format string, r *Record) string {
	t.Helper()
	return string(mustCompile(t, format, logfmt.LogFormatFlags).Append(nil, r))
}

func TestRenderVariables(t *testing.T) {
	t.Setenv("TZ", "UTC")
	cases := []struct {
		f    string
		want string
	}{
		{"%ci:%cp %fi:%fp", "192.0.2.7:40000 2001:db8::1:443"},
		{"%{+X}ci:%{+X}cp %{+X}fi", "C0000207:9C40 20010DB8000000000000000000000001"},
		{"%{+Q}ci %bi:%bp %{+Q}si", `"192.0.2.7" -:- ""`},
		{"%f %b %s %{+Q}s %ft", `fe be s1 "s1" fe`},
		{"%Th %Ti %TR %Tq %Tw %Tc %Tr %Ta %Tt %Tu %Td", "1 2 7 10 2 3 25 97 100 98 85"},
		{"%ST %B %U", "200 4567 120"},
		{"%ts %tsc", "-L -LVI"},
		{"%ac/%fc/%bc/%sc/%rc %sq/%bq", "3/2/1/1/0 0/0"},
		{"%hr %hs %hrl %hsl", "{a#7Cb|} {} a#7Cb - "},
		{"%{+Q}hr %{+Q}hrl", `"{a#7Cb|}" "a#7Cb" ""`},
		{"%r", "GET /p?q=1 HTTP/1.1"},
		{"%HM %HU %HP %HPO %HQ %HV", "GET /p?q=1 /p /p ?q=1 HTTP/1.1"},
		{"%rt %{+X}rt %lc %pid %{+X}pid %H", "26 001A 5 77 004D h"},
		{"%t", "05/Mar/2024:07:08:09.123"},
		{"%tr", "05/Mar/2024:07:08:09.126"},
		{"%T %trg %Tl", "05/Mar/2024:07:08:09 +0000 05/Mar/2024:07:08:09 +0000 05/Mar/2024:07:08:09 +0000"},
		{"%Ts %{+X}Ts %ms %{+X}ms", "1709622489 65E6C4D9 123 7B"},
		{"%ID %{+Q}ID %{-M}ID| %CC %{+Q}CS", `- "" | - ""`},
		{"%sslv %sslc", "- -"},
		{"  a   b  ", "a b "},
		{"%{+Q}o %f %{-Q}b", `"fe" be`},
	}
	for _, c := range cases {
		if got := render(t, c.f, baseRecord()); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.f, got, c.want)
		}
	}
}

func TestRenderSpecialCases(t *testing.T) {
	r := baseRecord()
	r.ServerName, r.RequestLine, r.ReqCaps, r.HasTxn = "", nil, nil, false
	r.Flags = SFErrPrxCond | SFFinstR | SFRedisp
	r.Retries, r.LogASAP = 2, true
	r.TRequest, r.TQueue, r.TConnect, r.TData = -1, -1, -1, -1
	r.FrontendSSL = true
	r.BackendHTTP = true
	got := render(t, "%s %r %HM %HU %HV %HQ %hr %ts %tsc %rc %B %Tt %Ta %TR %Tw %Tc %Tr %Td %ft", r)
	want := "<NOSRV> <BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ> PR PR-- +2 +4567 +100 +97 -1 -1 -1 -1 -1 fe~"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// request lines HAProxy cuts oddly
	for line, want := range map[string]string{
		"GET":                          "<BADREQ> <BADREQ> <BADREQ> <BADREQ>  <BADREQ>",
		"GET /x":                       "GET /x /x HTTP/0.9  /x",
		"CONNECT h:443 HTTP/1.1":       "CONNECT h:443 h:443 HTTP/1.1  ",
		"GET http://a/b?c HTTP/1.1":    "GET http://a/b?c http://a/b HTTP/1.1 ?c /b",
		"GET  /two\tspaces  HTTP/1.0 ": "GET /two /two spaces  HTTP/1.0   /two",
		"GET /q\"#\x01\xff? HTTP/1.1":  "GET /q#22#23#01#FF? /q#22#23#01#FF HTTP/1.1 ? /q#22#23#01#FF",
	} {
		r.RequestLine = []byte(line)
		if got := render(t, "%HM %HU %HP %HV %HQ %HPO", r); got != want {
			t.Errorf("%q:\n got %q\nwant %q", line, got, want)
		}
	}
}

func TestRenderEscapes(t *testing.T) {
	r := baseRecord()
	r.FrontendName = `a"b\c]d`
	r.ReqCaps = [][]byte{[]byte("x\"]\\{")}
	r.RequestLine = []byte(`GET /a]\b"c HTTP/1.1`)
	got := render(t, `%{+E}f %{+Q,+E}f %{+E}hr %{+E}r`, r)
	want := `a\"b\\c\]d "a\"b\\c\]d" {x#22\]\\#7B} GET /a\]\\b#22c HTTP/1.1`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestRenderSamples(t *testing.T) {
	nodes, err := logfmt.Parse(`%[a] %{+Q}[b] %[missing] %{+E}[a]`)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{"a": []byte(`v"]`), "b": []byte("w")}
	f, err := Compile(nodes, func(expr string, _ logfmt.Opt) (SampleFunc, error) {
		v, ok := vals[expr]
		return func(*Record) ([]byte, bool) { return v, ok }, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.Append(nil, baseRecord())), `v"] "w" - v`; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	// +E on a sample is bounded by the sample's own length (lf_text_len())
	// unique-id samples are %-encoded
	nodes, _ = logfmt.ParseWith("%[a]", logfmt.Options{HTTP: true, Flags: logfmt.UniqueIDFlags})
	vals["a"] = []byte("a\tb\x01\x7f")
	f, _ = Compile(nodes, func(expr string, _ logfmt.Opt) (SampleFunc, error) {
		return func(*Record) ([]byte, bool) { return vals[expr], true }, nil
	})
	if got, want := string(f.Append(nil, baseRecord())), "a\tb%01%7F"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestRenderMaxLen(t *testing.T) {
	r := baseRecord()
	r.FrontendName = strings.Repeat("f", 50)
	f := mustCompile(t, "%f %ST %{+Q}b", logfmt.LogFormatFlags)
	for _, c := range []struct {
		max  int
		want string
	}{
		{100, r.FrontendName + ` 200 "be"`},
		{30, strings.Repeat("f", 29)},        // text cut to maxsize-1
		{54, r.FrontendName + " "},           // "200" needs 4 bytes with the NUL
		{55, r.FrontendName + " 200"},        // no room for the space (LOGCHAR)
		{59, r.FrontendName + " 200 "},       // the closing quote does not fit: "be" is dropped
		{60, r.FrontendName + " 200 \"be\""}, // exactly fits
	} {
		f.MaxLen = c.max
		if got := string(f.Append(nil, r)); got != c.want {
			t.Errorf("max %d: got %q want %q", c.max, got, c.want)
		}
	}
}

func TestConnectLine(t *testing.T) {
	r := baseRecord()
	if got, want := string(AppendConnect(nil, r, true)), "Connect from 192.0.2.7:40000 to 2001:db8::1:443 (fe/HTTP)"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	r.ClientUnix, r.ListenerID = true, 3
	if got, want := string(AppendConnect(nil, r, false)), "Connect to unix:3 (fe/TCP)"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestAppendAllocs(t *testing.T) {
	nodes, err := logfmt.Parse(logfmt.HTTPLog + " %t %T %Tl %{+X}ci %{+Q,+E}HU %HPO %[s]")
	if err != nil {
		t.Fatal(err)
	}
	val := []byte("sample")
	f, err := Compile(nodes, func(string, logfmt.Opt) (SampleFunc, error) {
		return func(*Record) ([]byte, bool) { return val, true }, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := baseRecord()
	r.AcceptDate = r.AcceptDate.Local()
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(200, func() { buf = f.Append(buf[:0], r) }); n != 0 {
		t.Fatalf("Append allocates %v times per call", n)
	}
}

func BenchmarkAppendHTTPLog(b *testing.B) {
	f := mustCompile(b, logfmt.HTTPLog, logfmt.LogFormatFlags)
	r := baseRecord()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], r)
	}
}
