package acl

import (
	"strings"
	"testing"
)

// fixMsg turns the '|' of reg-test comments into SOH.
func fixMsg(s string) []byte { return []byte(strings.ReplaceAll(s, "|", "\x01")) }

// Messages of HAProxy's reg-test converter/fix.vtc.
var fixCases = []struct {
	msg   string
	valid bool
}{
	{"8=FIX.4.0|9=66|35=A|34=1|49=EXECUTOR|52=20201029-10:54:19|56=CLIENT1|98=0|108=30|10=147|", true},
	{"8=FIX.4.1|9=72|35=A|34=1|49=EXECUTOR|52=20201029-12:43:07|56=CLIENT1|98=0|108=30|141=Y|10=187|", true},
	{"8=FIX.4.2|9=79|35=A|34=1|49=EXECUTOR|52=20201029-12:55:12.101414|56=CLIENT1|98=0|108=30|141=Y|10=027|", true},
	{"8=FIX.4.3|9=79|35=A|34=1|49=EXECUTOR|52=20201029-12:58:50.891371|56=CLIENT1|98=0|108=30|141=Y|10=051|", true},
	{"8=FIX.4.4|9=79|35=A|34=1|49=EXECUTOR|52=20201029-13:02:44.535360|56=CLIENT1|98=0|108=30|141=Y|10=038|", true},
	{"8=FIXT.1.1|9=86|35=A|34=1|49=EXECUTOR|52=20201029-13:13:22.626384|56=CLIENT1|98=0|108=30|141=Y|1137=7|10=184|", true},
	{"8=FIX.4.0|9=70|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-10:54:19.617|98=0|108=30|10=090|", true},
	{"8=FIX.4.1|9=76|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-12:43:07.940|98=0|108=30|141=Y|10=138|", true},
	{"8=FIX.4.2|9=76|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-12:55:12.100|98=0|108=30|141=Y|10=126|", true},
	{"8=FIX.4.3|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-12:58:50.889|98=0|108=30|141=Y|553=Username|554=Password|10=012|", true},
	{"8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|", true},
	{"8=FIXT.1.1|9=116|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:13:22.624|1128=7|98=0|108=30|141=Y|553=Username|554=Password|1137=7|10=204|", true},
	// empty tag name, empty value, missing delimiter
	{"8=FIX.4.4|9=100|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|=0|108=30|141=Y|553=Username|554=Password|10=252|", false},
	{"8=FIX.4.4|9=101|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=|108=30|141=Y|553=Username|554=Password|10=252|", false},
	{"8=FIX.4.4|9=100|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98|108=30|141=Y|553=Username|554=Password|10=252|", false},
	// field order
	{"9=102|8=FIX.4.4|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|", false},
	{"8=FIX.4.4|35=A|9=102|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|", false},
	{"8=FIX.4.4|9=102|49=CLIENT1|35=A|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|", false},
	// body length and checksum
	{"8=FIX.4.4|9=100|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|", false},
	{"8=FIX.4.4|9=105|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=252|XXX", false},
	{"8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=25|", false},
	{"8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=2520|", false},
	{"8=FIX.4.4|9=102|35=A|49=CLIENT1|56=EXECUTOR|34=1|52=20201029-13:02:44.528|98=0|108=30|141=Y|553=Username|554=Password|10=253|", false},
	// a tag beyond FIX.4.0's range
	{"8=FIX.4.0|9=66|35=A|34=1|49=EXECUTOR|52=20201029-10:54:19|56=CLIENT1|98=0|999=30|10=147|", false},
}

func TestFixIsValid(t *testing.T) {
	for _, c := range fixCases {
		if got := fixValidate(fixMsg(c.msg)); got != map[bool]fixResult{true: fixValid, false: fixInvalid}[c.valid] {
			t.Errorf("%s: %d, want valid=%v", c.msg, got, c.valid)
		}
		// every strict prefix of a valid message waits for more data
		if c.valid {
			m := fixMsg(c.msg)
			for n := 0; n < len(m); n++ {
				if r := fixValidate(m[:n]); r != fixNeedMore {
					t.Errorf("%s cut at %d: %d, want more data", c.msg, n, r)
					break
				}
			}
		}
	}
}

func TestFixTagValue(t *testing.T) {
	tx := &Txn{Vars: &Vars{}}
	sc := scopeOf(t, "txn.m")
	tx.Vars.Set(sc, "m", fixMsg(fixCases[10].msg))
	for _, c := range []struct{ expr, want string }{
		{"var(txn.m),fix_is_valid", "1"},
		{"var(txn.m),fix_tag_value(BeginString)", "FIX.4.4"},
		{"var(txn.m),fix_tag_value(BodyLength)", "102"},
		{"var(txn.m),fix_tag_value(MsgType)", "A"},
		{"var(txn.m),fix_tag_value(SenderCompID)", "CLIENT1"},
		{"var(txn.m),fix_tag_value(targetcompid)", "EXECUTOR"},
		{"var(txn.m),fix_tag_value(CheckSum)", "252"},
		{"var(txn.m),fix_tag_value(8)", "FIX.4.4"},
		{"var(txn.m),fix_tag_value(554)", "Password"},
		{"var(txn.m),fix_tag_value(555)", "<none>"},
		{"str(8=FIX.4.4),fix_tag_value(8)", "<none>"},
		{"str(hello),fix_is_valid", "<none>"},
	} {
		if got := evalStr(t, tx, nil, c.expr); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
	if _, err := CompileSample("str(a),fix_tag_value(Nope)"); err == nil || err.Error() != "invalid args in converter 'fix_tag_value' : Unknown FIX tag name 'Nope'" {
		t.Errorf("unknown tag: %v", err)
	}
	// a message still arriving may change the answer
	s, _ := CompileSample("str(8=FIX.4.4\x019=1),fix_tag_value(35)")
	if v, ok := s.Eval(tx); ok || !v.MayChange {
		t.Errorf("partial message: %v %v", ok, v.MayChange)
	}
}

func FuzzFix(f *testing.F) {
	for _, c := range fixCases {
		f.Add(fixMsg(c.msg))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := fixValidate(b)
		if r == fixValid {
			if v, _, ok := fixTagValue(b, fixTagBeginString); !ok || fixVersion(v) < 0 {
				t.Errorf("valid message without a version: %q", b)
			}
		}
		fixTagValue(b, fixTagCheckSum)
	})
}
