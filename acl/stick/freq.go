package stick

// FreqCtr is HAProxy's freq_ctr: events counted in the current period and
// in the previous one, the period starting at CurrTick (a now_ms date with
// bit 0 clear, as HAProxy reserves that bit for its rotation lock).
type FreqCtr struct {
	CurrTick uint32
	CurrCtr  uint32
	PrevCtr  uint32
}

// Update adds inc events at date now for a period of period ms and returns
// the current period's count (update_freq_ctr_period).
func (f *FreqCtr) Update(now, period, inc uint32) uint32 {
	if now-f.CurrTick < period {
		f.CurrCtr += inc
		return f.CurrCtr
	}
	f.PrevCtr, f.CurrCtr = f.CurrCtr, inc
	tick := f.CurrTick + period
	if now-tick >= period {
		// at least two periods were missed
		f.PrevCtr = 0
		tick = now
	}
	f.CurrTick = tick &^ 1
	return inc
}

// total is freq_ctr_total with pend < 0: the events of the current period
// times period plus the previous period's weighted by the time left.
func (f *FreqCtr) total(now, period uint32) uint64 {
	curr, past := uint64(f.CurrCtr), uint64(f.PrevCtr)
	remain := int32(f.CurrTick + period - now)
	if remain < 0 {
		// past the current period: report part of it as the previous one
		remain += int32(period)
		if remain >= 0 {
			past = curr
		} else {
			past = 0
		}
		curr = 0
	}
	// flapping correction at very low rates
	if curr == 0 && past <= 1 {
		return past * uint64(period)
	}
	return past*uint64(uint32(remain)) + curr*uint64(period)
}

// Read returns the event rate per period at date now (read_freq_ctr_period).
func (f *FreqCtr) Read(now, period uint32) uint32 {
	if period == 0 {
		return 0
	}
	return uint32(f.total(now, period) / uint64(period))
}

// Set stores value as the current period's count starting now, with no
// history, as "set table ... data.<rate> <value>" does.
func (f *FreqCtr) Set(now, value uint32) {
	f.CurrTick = now &^ 1
	f.PrevCtr = 0
	f.CurrCtr = value
}
