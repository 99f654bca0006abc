package stick

// Counter operations on an entry. Each mirrors the HAProxy function named in
// its comment: it updates the stored types it concerns, ignores the others,
// and refreshes the entry's expiry date when it changed something, as
// stktable_touch_local does.

// val returns the data word of element idx of dt, a scalar, or -1.
func (t *Table) val(dt DataType, idx int) int {
	s := t.slot[dt]
	if s < 0 || idx < 0 || idx >= t.cfg.Store[dt].Elems || dataTypes[dt].std == stdFreq || dataTypes[dt].std == stdDict {
		return -1
	}
	return int(s) + idx*dataTypes[dt].std.words()
}

// freq returns the data word of element idx of dt, a rate, or -1.
func (t *Table) freq(dt DataType, idx int) int {
	s := t.slot[dt]
	if s < 0 || idx < 0 || idx >= t.cfg.Store[dt].Elems || dataTypes[dt].std != stdFreq {
		return -1
	}
	return int(s) + idx*stdFreq.words()
}

// Period returns the rate period of dt in milliseconds, 0 if not stored.
func (t *Table) Period(dt DataType) uint32 {
	if !t.Stores(dt) {
		return 0
	}
	return t.cfg.Store[dt].Period
}

// Elems returns the element count of dt, 0 if not stored.
func (t *Table) Elems(dt DataType) int {
	if !t.Stores(dt) {
		return 0
	}
	return t.cfg.Store[dt].Elems
}

// Value returns element idx of dt (0 for non-array types) as a sample
// integer: counters as stored, rates read at the current date, server_id
// signed. ok is false when the table does not store it; server_key is read
// with ServerKey.
func (e *Entry) Value(dt DataType, idx int) (v int64, ok bool) {
	t := e.tab()
	if dt >= NumDataTypes {
		return 0, false
	}
	if f := t.freq(dt, idx); f >= 0 {
		now := t.now()
		e.mu.Lock()
		r := e.frq(f).Read(now, t.cfg.Store[dt].Period)
		e.mu.Unlock()
		return int64(r), true
	}
	s := t.val(dt, idx)
	if s < 0 {
		return 0, false
	}
	e.mu.Lock()
	raw := e.raw(s, dataTypes[dt].std)
	e.mu.Unlock()
	return convert(dataTypes[dt].std, raw), true
}

// convert reads a stored scalar as its C type would be read into a
// long long.
func convert(std stdType, raw uint64) int64 {
	switch std {
	case stdSint:
		return int64(int32(raw))
	case stdUint:
		return int64(uint32(raw))
	}
	return int64(raw)
}

// store writes a long long into a scalar slot as the C assignment would.
func store(std stdType, v int64) uint64 {
	switch std {
	case stdSint, stdUint:
		return uint64(uint32(v))
	}
	return uint64(v)
}

// counterPair adds n to the count cnt and to the rate rate, then touches
// the entry if either is stored (stkctr_inc_*_ctr).
func (e *Entry) counterPair(cnt, rate DataType, n uint64) {
	t := e.tab()
	c, r := t.val(cnt, 0), t.freq(rate, 0)
	if c < 0 && r < 0 {
		return
	}
	now := t.now()
	e.mu.Lock()
	if c >= 0 {
		std := dataTypes[cnt].std
		e.setRaw(c, std, e.raw(c, std)+n)
	}
	if r >= 0 {
		e.frq(r).Update(now, t.cfg.Store[rate].Period, uint32(n))
	}
	e.mu.Unlock()
	e.touch(now)
}

// StartCounters counts a new tracked connection: conn_cur, conn_cnt and
// conn_rate, and refreshes the expiry (stream_start_counters).
func (e *Entry) StartCounters() {
	t := e.tab()
	now := t.now()
	e.mu.Lock()
	if s := t.val(ConnCur, 0); s >= 0 {
		*e.u32(s)++
	}
	if s := t.val(ConnCnt, 0); s >= 0 {
		*e.u32(s)++
	}
	if f := t.freq(ConnRate, 0); f >= 0 {
		e.frq(f).Update(now, t.cfg.Store[ConnRate].Period, 1)
	}
	e.mu.Unlock()
	e.touch(now)
}

// StopCounters decrements conn_cur when tracking ends
// (stream_stop_content_counters, stream_store_counters). The reference is
// dropped separately with Release.
func (e *Entry) StopCounters() {
	t := e.tab()
	s := t.val(ConnCur, 0)
	if s < 0 {
		return
	}
	now := t.now()
	e.mu.Lock()
	if *e.u32(s) > 0 {
		*e.u32(s)--
	}
	e.mu.Unlock()
	e.touch(now)
}

// IncConnCnt adds one to conn_cnt and returns the new count; ok is false
// when conn_cnt is not stored (src_updt_conn_cnt).
func (e *Entry) IncConnCnt() (n int64, ok bool) {
	t := e.tab()
	s := t.val(ConnCnt, 0)
	if s < 0 {
		return 0, false
	}
	now := t.now()
	e.mu.Lock()
	*e.u32(s)++
	n = int64(*e.u32(s))
	e.mu.Unlock()
	e.touch(now)
	return n, true
}

// IncHTTPReq counts an HTTP request (stkctr_inc_http_req_ctr).
func (e *Entry) IncHTTPReq() { e.counterPair(HTTPReqCnt, HTTPReqRate, 1) }

// IncHTTPErr counts a 4xx response (stkctr_inc_http_err_ctr).
func (e *Entry) IncHTTPErr() { e.counterPair(HTTPErrCnt, HTTPErrRate, 1) }

// IncHTTPFail counts a server failure (stkctr_inc_http_fail_ctr).
func (e *Entry) IncHTTPFail() { e.counterPair(HTTPFailCnt, HTTPFailRate, 1) }

// IncSess counts an accepted session (sess_cnt, sess_rate).
func (e *Entry) IncSess() { e.counterPair(SessCnt, SessRate, 1) }

// AddBytesIn counts bytes from the client (stkctr_inc_bytes_in_ctr).
func (e *Entry) AddBytesIn(n uint64) { e.counterPair(BytesInCnt, BytesInRate, n) }

// AddBytesOut counts bytes to the client (stkctr_inc_bytes_out_ctr).
func (e *Entry) AddBytesOut(n uint64) { e.counterPair(BytesOutCnt, BytesOutRate, n) }

// gpcSlots resolves a general purpose counter and its rate: the legacy
// type (gpc0/gpc1) first, then element idx of the gpc arrays, as the
// sc-inc-gpc0/1 actions and fetches fall back.
func (t *Table) gpcSlots(legacy, legacyRate DataType, idx int) (c, r int, period uint32) {
	c, r = -1, -1
	if legacy < NumDataTypes {
		c, r = t.val(legacy, 0), t.freq(legacyRate, 0)
		period = t.cfg.Store[legacyRate].Period
		if r < 0 {
			r, period = t.freq(GPCRate, idx), t.cfg.Store[GPCRate].Period
		}
	} else {
		r, period = t.freq(GPCRate, idx), t.cfg.Store[GPCRate].Period
	}
	if c < 0 {
		c = t.val(GPC, idx)
	}
	return c, r, period
}

// incGPC updates a gpc and its rate and returns what sc_inc_gpc returns:
// the new counter, or the rate's current count when only that is stored.
func (e *Entry) incGPC(c, r int, period uint32) (int64, bool) {
	if c < 0 && r < 0 {
		return 0, false
	}
	now := e.tab().now()
	var v int64
	e.mu.Lock()
	if r >= 0 {
		v = int64(e.frq(r).Update(now, period, 1))
	}
	if c >= 0 {
		*e.u32(c)++
		v = int64(*e.u32(c))
	}
	e.mu.Unlock()
	e.touch(now)
	return v, true
}

// IncGPC increments gpc[idx] and gpc_rate[idx] (sc-inc-gpc, sc_inc_gpc).
func (e *Entry) IncGPC(idx int) (int64, bool) {
	c, r, p := e.tab().gpcSlots(NumDataTypes, NumDataTypes, idx)
	return e.incGPC(c, r, p)
}

// IncGPC0 increments gpc0 and gpc0_rate, or gpc[0] and gpc_rate[0]
// (sc-inc-gpc0, sc_inc_gpc0).
func (e *Entry) IncGPC0() (int64, bool) {
	c, r, p := e.tab().gpcSlots(GPC0, GPC0Rate, 0)
	return e.incGPC(c, r, p)
}

// IncGPC1 increments gpc1 and gpc1_rate, or gpc[1] and gpc_rate[1]
// (sc-inc-gpc1, sc_inc_gpc1).
func (e *Entry) IncGPC1() (int64, bool) {
	c, r, p := e.tab().gpcSlots(GPC1, GPC1Rate, 1)
	return e.incGPC(c, r, p)
}

// clearSlot zeroes a scalar slot and returns its former value.
func (e *Entry) clearSlot(s int) (int64, bool) {
	if s < 0 {
		return 0, false
	}
	now := e.tab().now()
	e.mu.Lock()
	v := int64(*e.u32(s))
	*e.u32(s) = 0
	e.mu.Unlock()
	e.touch(now)
	return v, true
}

// ClearGPC zeroes gpc[idx] and returns its former value (sc_clr_gpc).
func (e *Entry) ClearGPC(idx int) (int64, bool) { return e.clearSlot(e.tab().val(GPC, idx)) }

// ClearGPC0 zeroes gpc0, or gpc[0], and returns its former value
// (sc_clr_gpc0).
func (e *Entry) ClearGPC0() (int64, bool) {
	c, _, _ := e.tab().gpcSlots(GPC0, GPC0Rate, 0)
	return e.clearSlot(c)
}

// ClearGPC1 zeroes gpc1, or gpc[1], and returns its former value
// (sc_clr_gpc1).
func (e *Entry) ClearGPC1() (int64, bool) {
	c, _, _ := e.tab().gpcSlots(GPC1, GPC1Rate, 1)
	return e.clearSlot(c)
}

// readSlot returns a scalar slot as an unsigned int.
func (e *Entry) readSlot(s int) (int64, bool) {
	if s < 0 {
		return 0, false
	}
	e.mu.Lock()
	v := int64(*e.u32(s))
	e.mu.Unlock()
	return v, true
}

// GPC0 returns gpc0, or gpc[0] (sc_get_gpc0).
func (e *Entry) GPC0() (int64, bool) {
	c, _, _ := e.tab().gpcSlots(GPC0, GPC0Rate, 0)
	return e.readSlot(c)
}

// GPC1 returns gpc1, or gpc[1] (sc_get_gpc1).
func (e *Entry) GPC1() (int64, bool) {
	c, _, _ := e.tab().gpcSlots(GPC1, GPC1Rate, 1)
	return e.readSlot(c)
}

// readRate reads a rate slot at the current date.
func (e *Entry) readRate(r int, period uint32) (int64, bool) {
	if r < 0 {
		return 0, false
	}
	now := e.tab().now()
	e.mu.Lock()
	v := e.frq(r).Read(now, period)
	e.mu.Unlock()
	return int64(v), true
}

// GPC0Rate returns gpc0_rate, or gpc_rate[0] (sc_gpc0_rate).
func (e *Entry) GPC0Rate() (int64, bool) {
	_, r, p := e.tab().gpcSlots(GPC0, GPC0Rate, 0)
	return e.readRate(r, p)
}

// GPC1Rate returns gpc1_rate, or gpc_rate[1] (sc_gpc1_rate).
func (e *Entry) GPC1Rate() (int64, bool) {
	_, r, p := e.tab().gpcSlots(GPC1, GPC1Rate, 1)
	return e.readRate(r, p)
}

// gptSlot is gpt0 or else gpt[0] for idx < 0, gpt[idx] otherwise.
func (t *Table) gptSlot(idx int) int {
	if idx < 0 {
		if s := t.val(GPT0, 0); s >= 0 {
			return s
		}
		idx = 0
	}
	return t.val(GPT, idx)
}

// SetGPT stores v in gpt[idx] (sc-set-gpt).
func (e *Entry) SetGPT(idx int, v int64) bool { return e.setSlot(e.tab().gptSlot(max(idx, 0)), v) }

// SetGPT0 stores v in gpt0, or gpt[0] (sc-set-gpt0).
func (e *Entry) SetGPT0(v int64) bool { return e.setSlot(e.tab().gptSlot(-1), v) }

// GPT returns gpt[idx] (sc_get_gpt).
func (e *Entry) GPT(idx int) (int64, bool) { return e.readSlot(e.tab().gptSlot(max(idx, 0))) }

// GPT0 returns gpt0, or gpt[0] (sc_get_gpt0).
func (e *Entry) GPT0() (int64, bool) { return e.readSlot(e.tab().gptSlot(-1)) }

func (e *Entry) setSlot(s int, v int64) bool {
	if s < 0 {
		return false
	}
	now := e.tab().now()
	e.mu.Lock()
	*e.u32(s) = uint32(v)
	e.mu.Unlock()
	e.touch(now)
	return true
}

// SetServer stores the server a "stick store" rule learned: its id in
// server_id and its name or address in server_key, those stored.
func (e *Entry) SetServer(id int32, key string) {
	t := e.tab()
	s, hasKey := t.val(ServerID, 0), t.Stores(ServerKey)
	if s < 0 && !hasKey {
		return
	}
	now := t.now()
	e.mu.Lock()
	if s >= 0 {
		*e.u32(s) = uint32(id)
	}
	if hasKey {
		e.chunk().srv[e.off] = key
	}
	e.mu.Unlock()
	e.touch(now)
}

// ServerID returns server_id.
func (e *Entry) ServerID() (int32, bool) {
	v, ok := e.Value(ServerID, 0)
	return int32(v), ok
}

// ServerKey returns server_key; the empty string means unset.
func (e *Entry) ServerKey() (string, bool) {
	if !e.tab().Stores(ServerKey) {
		return "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srvKeyText(), true
}

// Set stores v in element 0 of dt as "set table ... data.<type> <v>" does:
// counters take it cast to their C type, rates take it as the current
// period's count with no history. It reports whether dt is stored.
func (e *Entry) Set(dt DataType, v int64) bool {
	t := e.tab()
	if !t.Stores(dt) || dataTypes[dt].std == stdDict {
		return t.Stores(dt)
	}
	now := t.now()
	e.mu.Lock()
	if f := t.freq(dt, 0); f >= 0 {
		e.frq(f).Set(now, uint32(v))
	} else {
		e.setRaw(t.val(dt, 0), dataTypes[dt].std, store(dataTypes[dt].std, v))
	}
	e.mu.Unlock()
	return true
}

// Touch refreshes the entry's expiry date (stktable_touch_local).
func (e *Entry) Touch() { e.touch(e.tab().now()) }
