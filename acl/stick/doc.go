// Package stick implements HAProxy 2.6 stick tables ("stick-table" in
// configuration.txt section 4.2, the sc_*, src_* and table_* fetches of
// section 7.3.3, the "show/clear/set table" commands of management.txt).
//
// It holds the state that sample fetches and the engine both touch, so it
// imports nothing else of this module: acl/ builds keys from samples and
// reads counters through it, the engine tracks entries and updates counters.
//
// Rates follow HAProxy's freq_ctr arithmetic exactly, against a clock in
// milliseconds that wraps at 2^32 like HAProxy's now_ms. Entry expiry is
// applied lazily: an unreferenced entry past its expiry date is never
// returned and is removed by the next purge, which is what HAProxy's
// expiry task makes visible.
package stick
