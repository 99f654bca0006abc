package acl

import (
	"bytes"
	"strings"
)

// FIX protocol messages (src/fix.c): tag=value fields separated by SOH.

const (
	fixDelim   = 0x01
	fixMinSize = 26 // FIX_MSG_MINSIZE

	fixTagBeginString  = 8
	fixTagBodyLength   = 9
	fixTagCheckSum     = 10
	fixTagMsgType      = 35
	fixTagSenderCompID = 49
	fixTagTargetCompID = 56
)

// fixResult is fix_validate_message's answer.
type fixResult int8

const (
	fixInvalid  fixResult = -1
	fixNeedMore fixResult = 0
	fixValid    fixResult = 1
)

// fixVersions are the BeginString values and the highest tag of each
// (FIXT.1.1 stands for every 5.0 service pack).
var fixVersions = [...]struct {
	name string
	max  uint32
}{{"FIX.4.0", 140}, {"FIX.4.1", 211}, {"FIX.4.2", 446}, {"FIX.4.3", 659}, {"FIX.4.4", 956}, {"FIXT.1.1", 1621}}

// fixVersion returns the index of a BeginString value, -1 if unknown.
func fixVersion(v []byte) int {
	for i, fv := range fixVersions {
		if string(v) == fv.name {
			return i
		}
	}
	return -1
}

// readUint is HAProxy's read_uint: decimal digits up to the first other
// byte, wrapping at 2^32; n is the number of bytes read.
func readUint(b []byte) (v uint32, n int) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + uint32(b[n]-'0')
		n++
	}
	return v, n
}

// fixCheckID is fix_check_id: the tag number, 0 when it is not a positive
// number or, with a version (>= 0), out of that version's range outside
// the user-defined 10000-19999.
func fixCheckID(tag []byte, version int) uint32 {
	id, n := readUint(tag)
	if n != len(tag) || id == 0 {
		return 0
	}
	if version < 0 || id >= 10000 && id <= 19999 || id <= fixVersions[version].max {
		return id
	}
	return 0
}

// fixField splits the field at the start of p: its tag and value. more is
// set when no delimiter ends it yet; ok is false for an empty tag.
func fixField(p []byte) (tag, value []byte, more, ok bool) {
	eq := bytes.IndexByte(p, '=')
	if eq < 0 {
		return nil, nil, true, false
	}
	end := bytes.IndexByte(p[eq:], fixDelim)
	if end < 0 {
		return nil, nil, true, false
	}
	if eq == 0 {
		return nil, nil, false, false
	}
	return p[:eq], p[eq+1 : eq+end], false, true
}

// fixValidate is fix_validate_message: BeginString with a known version,
// BodyLength, MsgType, then fields up to a CheckSum that matches the body
// length and the byte sum.
func fixValidate(msg []byte) fixResult {
	if len(msg) < fixMinSize {
		return fixNeedMore
	}
	version, nTags := -1, 0
	var bodyLen uint32
	var sum uint8
	body := -1
	for pos := 0; pos < len(msg); {
		tag, value, more, ok := fixField(msg[pos:])
		if more {
			return fixNeedMore
		}
		if !ok {
			return fixInvalid
		}
		id := fixCheckID(tag, version)
		if id == 0 {
			return fixInvalid
		}
		nTags++
		switch {
		case nTags == 1:
			if id != fixTagBeginString {
				return fixInvalid
			}
			if version = fixVersion(value); version < 0 {
				return fixInvalid
			}
		case nTags == 2:
			n, used := readUint(value)
			if id != fixTagBodyLength || used != len(value) || n == 0 {
				return fixInvalid
			}
			bodyLen, body = n, pos+len(tag)+len(value)+2
		case nTags == 3:
			if id != fixTagMsgType {
				return fixInvalid
			}
		case id == fixTagCheckSum:
			// the last field, outside the body and the sum
			if int64(bodyLen) != int64(pos-body) || len(value) != 3 {
				return fixInvalid
			}
			if n, _ := readUint(value); uint8(n) != sum {
				return fixInvalid
			}
			return fixValid
		}
		for _, c := range tag {
			sum += c
		}
		sum += '='
		for _, c := range value {
			sum += c
		}
		sum += fixDelim
		pos += len(tag) + len(value) + 2
	}
	if body >= 0 {
		return fixNeedMore
	}
	return fixInvalid
}

// fixTagValue is fix_tag_value: the value of the first field with tag id;
// more is set when the message ends before it is found.
func fixTagValue(msg []byte, id uint32) (value []byte, more, ok bool) {
	for pos := 0; pos < len(msg); {
		tag, v, needMore, good := fixField(msg[pos:])
		if needMore {
			break
		}
		if !good {
			return nil, false, false
		}
		tid := fixCheckID(tag, -1)
		if tid == 0 {
			return nil, false, false
		}
		if tid == id {
			return v, false, true
		}
		if tid == fixTagCheckSum {
			return nil, false, false
		}
		pos += len(tag) + len(v) + 2
	}
	return nil, true, false
}

// fixTagID is fix_tagid: a tag number or one of the names HAProxy knows.
func fixTagID(name string) uint32 {
	if id := fixCheckID([]byte(name), -1); id != 0 {
		return id
	}
	for _, n := range [...]struct {
		name string
		id   uint32
	}{{"MsgType", fixTagMsgType}, {"CheckSum", fixTagCheckSum}, {"BodyLength", fixTagBodyLength},
		{"TargetCompID", fixTagTargetCompID}, {"BeginString", fixTagBeginString}, {"SenderCompID", fixTagSenderCompID}} {
		if strings.EqualFold(name, n.name) {
			return n.id
		}
	}
	return 0
}

func init() {
	addConv(
		&convDef{name: "fix_is_valid", in: TypeBin, out: TypeBool, fn: convFixIsValid},
		&convDef{name: "fix_tag_value", args: spec(1, aStr), in: TypeBin, out: TypeBin, fn: convFixTagValue, check: checkFixTag},
	)
}

func checkFixTag(c *conv, _ *Context) error {
	id := fixTagID(c.args[0].s)
	if id == 0 {
		return errorf("Unknown FIX tag name '%s'", c.args[0].s)
	}
	c.i = int64(id)
	return nil
}

// settle sets whether a converter's answer may still change with more
// data, replacing what the fetch said, as converters that parse a whole
// message do with SMP_F_MAY_CHANGE.
func (t *Txn) settle(v *Value, more bool) {
	v.MayChange, t.mayChange, t.settled = more, more, true
}

func convFixIsValid(c *conv, t *Txn, v *Value) bool {
	return t.validity(v, int8(fixValidate(v.B)))
}

// validity gives a validating converter's answer: no value yet while
// more data may come (r 0), else a boolean, true when r is 1.
func (t *Txn) validity(v *Value, r int8) bool {
	t.settle(v, r == 0)
	if r == 0 {
		return false
	}
	v.Type, v.I = TypeBool, 0
	if r == 1 {
		v.I = 1
	}
	return true
}

func convFixTagValue(c *conv, t *Txn, v *Value) bool {
	b, more, ok := fixTagValue(v.B, uint32(c.i))
	t.settle(v, more)
	if !ok || len(b) == 0 {
		return false
	}
	v.Type, v.B = TypeBin, b
	return true
}
