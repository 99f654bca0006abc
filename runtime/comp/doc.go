// Package comp is HTTP response compression as HAProxy 2.6 does it
// (src/flt_http_comp.c, src/compression.c; configuration.txt "compression"
// in section 4.2 and the global "maxcomprate", "maxcompcpuusage",
// "maxzlibmem" and "tune.comp.maxlevel").
//
// The engine calls, per transaction:
//
//	cfg := comp.Merge(feCfg, beCfg)             // once, at compile time
//	algo, dropAE := cfg.SelectRequest(&req)     // on the request head
//	edits, ok := cfg.SelectResponse(algo, &req, &rsp, limits)
//	if ok { apply edits.List(); enc, err := pool.Get(algo); ... pool.Put(enc) }
//
// and streams the body through an Encoder: Write for each block received,
// Flush after each block (HAProxy flushes after every data block, so the
// client sees data as it arrives), Close at the end of the message.
//
// HAProxy 2.6 has "compression algo", "compression type" and "compression
// offload" only; the per-direction keywords came later and are not here.
package comp
