package acl

// Sample is a compiled sample expression: a fetch and its converters
// (configuration.txt section 7.3), as used in "%[...]", set-var,
// use_backend and the like.
type Sample struct {
	x *sampleExpr
	// names, for a Table's sample, are its rules' values.
	names []string
}

// Names is a sample whose value is names[i] for the rule i a Table
// condition has just found.
func Names(names []string) *Sample { return &Sample{names: names} }

// CompileSample compiles "fetch(args),conv(args)..." with no
// configuration context (no userlists, a private map registry).
func CompileSample(expr string) (*Sample, error) { return CompileSampleWith(expr, nil) }

// CompileSampleWith compiles a whole sample expression; ctx resolves
// userlists and shares map files. Errors use HAProxy's wording; those for
// fetches and converters HAProxy has but this engine does not evaluate
// wrap ErrNotImplemented.
func CompileSampleWith(expr string, ctx *Context) (*Sample, error) {
	x, _, err := parseExpr(expr, ctx, false)
	if err != nil {
		return nil, err
	}
	return &Sample{x: x}, nil
}

// ParseSample compiles the sample expression at the start of s and
// returns the number of bytes it used, for callers that embed expressions
// in other text (log-format's "%[expr]": the caller then expects ']').
func ParseSample(s string, ctx *Context) (*Sample, int, error) {
	x, n, err := parseExpr(s, ctx, true)
	if err != nil {
		return nil, 0, err
	}
	return &Sample{x: x}, n, nil
}

// Type is the type of the expression's result as known at compile time
// (TypeAny for var() and json_query, whose type is known per value).
func (s *Sample) Type() Type {
	if s.x == nil {
		return TypeStr
	}
	return s.x.out
}

// Eval evaluates the expression. The value's bytes live in the Txn (or
// the request) and are valid until the next evaluation on t. ok is false
// when the fetch finds nothing or a converter fails; v.MayChange is then
// still meaningful (see Cond.Exec).
func (s *Sample) Eval(t *Txn) (v Value, ok bool) {
	if s.names != nil {
		if int(t.hit) >= len(s.names) || t.hit < 0 {
			return v, false
		}
		t.scratch = append(t.scratch[:0], s.names[t.hit]...)
		return Value{Type: TypeStr, B: t.scratch}, true
	}
	t.mayChange = false
	ok = s.x.eval(t, &t.ev)
	t.ev.MayChange = t.ev.MayChange || t.mayChange
	return t.ev, ok
}

// Int evaluates the expression as an integer (sample_fetch_as_type to
// SINT); ok is false when it yields nothing or does not convert.
func (s *Sample) Int(t *Txn) (int64, bool) {
	v, ok := s.Eval(t)
	if !ok || !cast(t, &v, TypeInt) {
		return 0, false
	}
	return v.I, true
}

// Append appends the sample's value to dst as text (bin values stop at
// their first NUL byte, as HAProxy's cast to str does); ok is false when
// the expression yields nothing.
func (s *Sample) Append(dst []byte, t *Txn) ([]byte, bool) {
	v, ok := s.Eval(t)
	if !ok {
		return dst, false
	}
	return appendValue(dst, &v), true
}

// SetVar evaluates the expression and stores its typed value in the
// variable under the set-var conditions (ParseVarConds), as the set-var
// action does; when the expression yields nothing the variable is left as
// it is. It reports whether the variable was set.
func (s *Sample) SetVar(t *Txn, scope uint8, name string, conds VarConds) bool {
	v, ok := s.Eval(t)
	if !ok {
		return false
	}
	return t.setVar(scope, name, &v, conds)
}

// Pending reports that the sample has no settled value yet: it yields
// nothing or a value that may change, and more data may still come
// (HAProxy's SMP_F_MAY_CHANGE without SMP_OPT_FINAL); a rule using it
// waits.
func (s *Sample) Pending(t *Txn) bool {
	if t.Final {
		return false
	}
	v, ok := s.Eval(t)
	return t.mayChange || ok && v.MayChange
}
