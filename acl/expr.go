package acl

import (
	"errors"
	"fmt"
)

// fetchDef is one sample fetch keyword (HAProxy's struct sample_fetch).
type fetchDef struct {
	name string
	args argSpec
	out  Type
	// fn returns the fetch's value as a sample expression sees it (for
	// multi-valued fetches, the one HAProxy returns without
	// SMP_OPT_ITERATE).
	fn func(fe *fetch, t *Txn, v *Value) bool
	// iter, when set, offers each value to vis in turn, as ACLs see them;
	// it reports whether there was any value.
	iter func(fe *fetch, t *Txn, vis visitor) bool
	// check validates and compiles the arguments.
	check func(fe *fetch, ctx *Context) error
}

// convDef is one converter keyword (HAProxy's struct sample_conv).
type convDef struct {
	name    string
	args    argSpec
	in, out Type
	fn      func(c *conv, t *Txn, v *Value) bool
	check   func(c *conv, ctx *Context) error
}

// fetch is a compiled fetch: its keyword and arguments.
type fetch struct {
	def  *fetchDef
	args []arg
	// name is the lower-cased header, cookie or parameter name.
	name string
	occ  int
	res  bool
	// scope and vname designate var()'s variable.
	scope uint8
	vname string
	// ul is http_auth's userlist.
	ul *Userlist
	// stk is a stick-table fetch's counter, table and operation.
	stk *stkFetch
	// dyn makes a header fetch read the channel of the rule (hdr).
	dyn bool
}

// conv is a compiled converter.
type conv struct {
	def  *convDef
	args []arg
	m    *mapRef
	// conds are set-var's conditions.
	conds VarConds
	// json is json_query's compiled path.
	json []jsonStep
	// i and s are compiled scalar settings (json escaping mode, digest
	// algorithm, field counts...).
	i int64
	s string
	b []byte
	// stk is a table_* converter's table and operation.
	stk *stkFetch
}

// visitor receives the values of an iterating fetch; it returns true to
// stop. Expressions pass themselves so that nothing escapes.
type visitor interface {
	visit(t *Txn, v *Value) bool
}

// sampleExpr is a fetch followed by converters.
type sampleExpr struct {
	fe    fetch
	convs []conv
	out   Type
}

// convert applies the converters to v.
func (x *sampleExpr) convert(t *Txn, v *Value) bool {
	for i := range x.convs {
		c := &x.convs[i]
		if !cast(t, v, c.def.in) {
			return false
		}
		if !c.def.fn(c, t, v) {
			return false
		}
	}
	return true
}

// eval computes the expression's single value.
func (x *sampleExpr) eval(t *Txn, v *Value) bool {
	*v = Value{}
	if !x.fe.def.fn(&x.fe, t, v) {
		return false
	}
	mc := v.MayChange
	t.settled = false
	ok := x.convert(t, v)
	if !t.settled {
		v.MayChange = mc
	}
	return ok
}

// ErrNotImplemented marks fetches, converters and match methods that exist
// in HAProxy 2.6 but are not evaluated here; configurations using them are
// refused.
var ErrNotImplemented = errors.New("not implemented")

var errNotImpl = ErrNotImplemented

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// parseExpr is sample_parse_expr (src/sample.c) over one string. With
// partial set it stops at the first byte that cannot continue the
// expression and returns its offset; otherwise the whole string must be
// used.
func parseExpr(s string, ctx *Context, partial bool) (*sampleExpr, int, error) {
	e := 0
	for e < len(s) && isIDChar(s[e]) {
		e++
	}
	if e == 0 {
		return nil, 0, errorf("missing fetch method")
	}
	fkw := s[:e]
	def := fetchDefs[fkw]
	if def == nil {
		if knownFetch(fkw) {
			return nil, 0, fmt.Errorf("fetch method '%s': %w", fkw, errNotImpl)
		}
		return nil, 0, errorf("unknown fetch method '%s'", fkw)
	}
	x := &sampleExpr{fe: fetch{def: def}, out: def.out}
	args, n, _, err := parseArgs(s[e:], def.args)
	if err != nil {
		return nil, 0, errorf("fetch method '%s' : %v", fkw, err)
	}
	x.fe.args = args
	if def.check != nil {
		if err := def.check(&x.fe, ctx); err != nil {
			var re *ResolveError
			switch {
			case errors.As(err, &re):
				if !ctx.unresolved(re) {
					return nil, 0, re
				}
			case errors.Is(err, errNotImpl):
				return nil, 0, fmt.Errorf("fetch method '%s': %w", fkw, err)
			default:
				return nil, 0, errorf("invalid args in fetch method '%s' : %v", fkw, err)
			}
		}
	}
	p, end, err := parseConvs(x, s, e+n, ctx, fkw, partial)
	if err != nil {
		return nil, 0, err
	}
	_ = p
	return x, end, nil
}

// parseConvs parses ",conv(args)..." from s[p:] onto x.
func parseConvs(x *sampleExpr, s string, p int, ctx *Context, fkw string, partial bool) (int, int, error) {
	ckw := ""
	for {
		if p < len(s) && s[p] != ',' {
			if partial {
				return p, p, nil
			}
			if ckw != "" {
				return 0, 0, errorf("missing comma after converter '%s'", ckw)
			}
			return 0, 0, errorf("missing comma after fetch keyword '%s'", fkw)
		}
		for p < len(s) && s[p] == ',' {
			p++
		}
		if p >= len(s) {
			return p, p, nil
		}
		e := p
		for e < len(s) && isIDChar(s[e]) {
			e++
		}
		ckw = s[p:e]
		def := convDefs[ckw]
		if def == nil {
			if knownConv(ckw) {
				return 0, 0, fmt.Errorf("converter '%s': %w", ckw, errNotImpl)
			}
			return 0, 0, errorf("unknown converter '%s'", ckw)
		}
		if !canCast(x.out, def.in) {
			return 0, 0, errorf("converter '%s' cannot be applied", ckw)
		}
		c := conv{def: def}
		args, n, pos, err := parseArgs(s[e:], def.args)
		if err != nil {
			return 0, 0, errorf("invalid arg %d in converter '%s' : %v", pos+1, ckw, err)
		}
		if len(args) > 0 && len(def.args.types) == 0 {
			return 0, 0, errorf("converter '%s' does not support any args", ckw)
		}
		c.args = args
		if def.check != nil {
			if err := def.check(&c, ctx); err != nil {
				var re *ResolveError
				switch {
				case errors.As(err, &re):
					re.Fetch = fkw
					if !ctx.unresolved(re) {
						return 0, 0, re
					}
				case errors.Is(err, errNotImpl):
					return 0, 0, fmt.Errorf("converter '%s': %w", ckw, err)
				default:
					return 0, 0, errorf("invalid args in converter '%s' : %v", ckw, err)
				}
			}
		}
		x.convs = append(x.convs, c)
		x.out = def.out
		if def.out == TypeAny && def.in == TypeAny {
			// set-var, unset-var and debug pass their input through.
			x.out = x.outBefore(len(x.convs) - 1)
		}
		p = e + n
	}
}

// outBefore is the output type of the chain before converter i.
func (x *sampleExpr) outBefore(i int) Type {
	t := x.fe.def.out
	for j := 0; j < i; j++ {
		if o := x.convs[j].def.out; o != TypeAny || x.convs[j].def.in != TypeAny {
			t = o
		}
	}
	return t
}

// argStr returns argument i's text, or "" when absent.
func argStr(a []arg, i int) string {
	if i < len(a) {
		return a[i].s
	}
	return ""
}

// argInt returns integer argument i, or def when absent.
func argInt(a []arg, i int, def int64) int64 {
	if i < len(a) {
		return a[i].i
	}
	return def
}

func hasArg(a []arg, i int) bool { return i < len(a) }
