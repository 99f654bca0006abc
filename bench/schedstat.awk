# Reads `go tool trace -d=parsed`: writes each goroutine's wait from
# runnable to running (us) to the file DELAYS, and prints the goroutine
# wakes per second, the Ps running on average and their number, the
# goroutines waiting to run on average, and the share of the time (%)
# when a P was idle while some waited.
function t_of(s) { return substr(s, 6) + 0 }
$1 ~ /^M=/ && $4 == "StateTransition" {
  t = t_of($5)
  if (t0 == 0) t0 = t
  if (last > 0 && t > last) {
    dt = t - last
    span += dt; runsum += dt * nrun; rqsum += dt * nrq
    if (nrq > 0 && nrun < nprocs) gap += dt
  }
  last = t
  split($6, id, "="); tr = $7
  if (id[1] == "GoID") {
    g = id[2]
    if (tr ~ /->Runnable$/) { since[g] = t; nrq++ }
    if (tr ~ /^Runnable->/ && (g in since)) {
      d[++nd] = (t - since[g]) / 1000; delete since[g]; nrq--
    }
  } else if (id[1] == "ProcID") {
    p = id[2]
    if (!(p in seen)) { seen[p] = 1; nprocs++ }
    if (tr ~ /->Running$/ && !run[p]) { run[p] = 1; nrun++ }
    else if (tr !~ /->Running$/ && run[p]) { run[p] = 0; nrun-- }
  }
}
END {
  if (nd == 0 || span == 0) exit 1
  # The delays go to DELAYS (sorted by the caller); the rest on stdout.
  for (i = 1; i <= nd; i++) print d[i] > DELAYS
  printf "%d %.2f %d %.1f %.1f\n", nd / (span / 1e9), runsum / span, nprocs, rqsum / span, 100 * gap / span
}
