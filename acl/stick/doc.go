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
//
// Memory: entries are 32-byte headers in chunks of 1020 with their keys
// (the table's key size) and data (4 bytes per 32-bit counter, 8 per
// 64-bit one, 12 per rate) in parallel pointer-free arrays, named by a
// 32-bit index; the key index and the expiry heap hold indexes. Freed
// entries are reused, so memory is bounded by the table's size, and an
// entry may only be used while referenced.
package stick
