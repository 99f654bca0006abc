package acl

import "strings"

// mapRef is a map converter's compiled file: its index and default.
type mapRef struct {
	pe  *patExpr
	def Value
	has bool
}

func init() {
	methods := []struct {
		n  string
		m  matchKind
		in Type
	}{{"str", mStr, TypeStr}, {"beg", mBeg, TypeStr}, {"sub", mSub, TypeStr}, {"dir", mDir, TypeStr},
		{"dom", mDom, TypeStr}, {"end", mEnd, TypeStr}, {"reg", mReg, TypeStr}, {"int", mInt, TypeInt}, {"ip", mIP, TypeAddr}}
	for _, md := range methods {
		for _, o := range []struct {
			sfx string
			out Type
		}{{"", TypeStr}, {"_int", TypeInt}, {"_ip", TypeAddr}} {
			a := spec(1, aStr, aStr)
			if o.out == TypeInt {
				a = spec(1, aStr, aSint)
			}
			addConv(&convDef{name: "map_" + md.n + o.sfx, args: a, in: md.in, out: o.out, fn: convMap, check: checkMap})
		}
	}
	addConv(&convDef{name: "map", args: spec(1, aStr, aStr), in: TypeStr, out: TypeStr, fn: convMap, check: checkMap},
		&convDef{name: "map_regm", args: spec(1, aStr, aStr), in: TypeStr, out: TypeStr, fn: convMap, check: checkMap})
}

// mapMethod is the match method in a map converter's name.
func mapMethod(name string) matchKind {
	if name == "map" {
		return mStr
	}
	n := strings.TrimPrefix(name, "map_")
	n, _, _ = strings.Cut(n, "_")
	if n == "regm" {
		return mRegm
	}
	return matchNames[n]
}

// checkMap is sample_load_map: the file is loaded once per path and
// shared through the context's registry.
func checkMap(c *conv, ctx *Context) error {
	r, err := ctx.maps().loadFile(c.args[0].s, true)
	if err != nil {
		return err
	}
	pe := &patExpr{m: mapMethod(c.def.name), out: c.def.out}
	if err := r.attach(pe); err != nil {
		return err
	}
	c.m = &mapRef{pe: pe}
	if len(c.args) > 1 {
		c.m.has = true
		switch c.def.out {
		case TypeInt:
			c.m.def = Value{Type: TypeInt, I: c.args[1].i}
		case TypeAddr:
			v, err := parseMapValue(c.args[1].s, TypeAddr)
			if err != nil {
				return errorf("map: cannot parse default ip <%s>.", c.args[1].s)
			}
			c.m.def = v
		default:
			c.m.def = Value{Type: TypeStr, B: c.args[1].b}
		}
	}
	return nil
}

// convMap is sample_conv_map: the value of the matching entry (for
// map_regm with the match's groups substituted), else the default.
func convMap(c *conv, t *Txn, v *Value) bool {
	pe := c.m.pe
	p := pe.lookup(t, v)
	if p == nil {
		if !c.m.has {
			return false
		}
		*v = c.m.def
		return true
	}
	if pe.m == mRegm {
		in := v.B
		m := p.re.FindSubmatchIndex(in)
		b, ok := appendExpReplace(t.tmp(), in, string(p.val.B), m)
		if !ok {
			return false
		}
		return out(t, v, TypeStr, b)
	}
	*v = p.val
	return true
}
