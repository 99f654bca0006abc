package stats

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gohap/gohap/acl"
)

// mapSource serves a registry with one map file, used by a map converter
// and an ACL, and one ACL file.
type mapSource struct {
	fakeSource
	ms *acl.Maps
}

func (m mapSource) Maps() *acl.Maps { return m.ms }

func newMapSource(t testing.TB) (mapSource, string) {
	dir := t.TempDir()
	mf, af := filepath.Join(dir, "m.map"), filepath.Join(dir, "a.acl")
	os.WriteFile(mf, []byte("/a 1\n/b 2\n"), 0o644)
	os.WriteFile(af, []byte("curl\n"), 0o644)
	ms := acl.NewMaps()
	set := acl.NewSetWith(&acl.Context{Maps: ms, File: "cfg", Line: 1})
	for _, a := range []struct {
		name, fetch string
		args        []string
	}{{"m", "path", []string{"-M", "-f", mf}}, {"a", "req.hdr", []string{"-f", af}}, {"p", "path_beg", []string{"/x", "/y"}}} {
		if err := set.Add(a.name, a.fetch, a.args); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := acl.CompileSampleWith("path,map_str_int("+mf+")", &acl.Context{Maps: ms}); err != nil {
		t.Fatal(err)
	}
	return mapSource{fakeSource: fake, ms: ms}, dir
}

// exec runs a request as a connection would and returns the answers.
func execRequest(cli *CLI, level Level, req string) string {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	ss := &session{srv: cli, level: level, out: w}
	r := bufio.NewReader(strings.NewReader(req))
	for {
		line, ok := ss.read(r)
		if !ok || ss.run(line) {
			break
		}
		ss.payload, ss.hasPayload = "", false
		w.WriteString("\n")
	}
	w.Flush()
	return sb.String()
}

func TestMapCommands(t *testing.T) {
	src, dir := newMapSource(t)
	cli := New(src, 0, 0)
	m := dir + "/m.map"
	for _, c := range []struct{ req, want string }{
		{"show map " + m + "\n", "0x1 /a 1\n0x2 /b 2\n\n"},
		{"add map " + m + " <<\n/c 3\n/d\t 4\n\nshow map #0\n", "\n0x1 /a 1\n0x2 /b 2\n0x3 /c 3\n0x4 /d 4\n\n"},
		{"add map " + m + " /e x\n", "unable to parse 'x'.\n\n"},
		{"add map " + m + " <<\n/f\n\n", "Missing value for key '/f'.\n\n"},
		// "<<" that ends another word gives no payload.
		{"add map " + m + " /g<<\n/h 5\n\n", "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n\n"},
		{"get map " + m + " /c\n", "type=str, case=sensitive, found=yes, idx=tree, key=\"/c\", value=none\n" +
			"type=str, case=sensitive, found=yes, idx=tree, key=\"/c\", value=\"3\", type=\"sint\"\n\n"},
		{"set map " + m + " #0x3 30; get map #0 /c\n", "\ntype=str, case=sensitive, found=yes, idx=tree, key=\"/c\", value=none\n" +
			"type=str, case=sensitive, found=yes, idx=tree, key=\"/c\", value=\"30\", type=\"sint\"\n\n"},
		{"prepare map #0; add map @1 #0 /z 9; show map @1 #0; commit map @1 #0; show map #0\n",
			"New version created: 1\n\n\n0x5 /z 9\n\n\n0x5 /z 9\n\n"},
		{"del map #0 /z;show map #0;del map #0 /z\n", "\n\nKey not found.\n\n"},
		{"show acl\n", "# id (file) description\n0 (" + m + ") pattern loaded from file '" + m + "' used by map. curr_ver=1 next_ver=1 entry_cnt=4\n" +
			"1 (" + dir + "/a.acl) pattern loaded from file '" + dir + "/a.acl' used by acl. curr_ver=0 next_ver=0 entry_cnt=1\n" +
			"2 () acl 'path_beg' file 'cfg' line 1. curr_ver=0 next_ver=0 entry_cnt=2\n\n"},
	} {
		if got := execRequest(cli, LevelAdmin, c.req); got != c.want {
			t.Errorf("%q:\n%q\nwant\n%q", c.req, got, c.want)
		}
	}
}

// FuzzCLIRequest: any request, payloads included, is answered without a
// panic or a hang.
func FuzzCLIRequest(f *testing.F) {
	for _, s := range []string{"add map #0 <<\n/a 1\n\n", "show map #0\n", "del acl #1 curl;get acl #2 /x\n",
		"prepare map #0;add map @1 #0 a b;commit map @1 #0\n", "set map #0 #0x1 5\n", "clear map @3 #0\n", "add map <<\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, req string) {
		src, _ := newMapSource(t)
		execRequest(New(src, 0, 0), LevelAdmin, req)
	})
}
