//go:build pgoprofile

package main

// The CPU profile bench/pgo.sh turns into default.pgo, the profile the
// compiler optimises gohap for: built with -tags pgoprofile only.
// GOHAP_CPUPROFILE names the file, GOHAP_CPUPROFILE_WAIT (a duration)
// lets the load warm the process first, GOHAP_CPUPROFILE_FOR is how long
// it records. GOHAP_TRACE, GOHAP_TRACE_WAIT and GOHAP_TRACE_FOR do the
// same with an execution trace (bench/sched.sh reads the scheduler's
// events from it). GOHAP_HEAPPROFILE names the files (.heap, .goroutine)
// that SIGUSR2 writes the heap and goroutine profiles to, after a
// collection: what a load left, per allocation site.

import (
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"
)

func init() {
	record("GOHAP_CPUPROFILE", 5*time.Second, func(w io.Writer) (func(), error) {
		// More samples than the default 100 Hz for a short run; pprof
		// then warns that the rate was set already.
		goruntime.SetCPUProfileRate(1000)
		return pprof.StopCPUProfile, pprof.StartCPUProfile(w)
	})
	record("GOHAP_TRACE", time.Second, func(w io.Writer) (func(), error) {
		return trace.Stop, trace.Start(w)
	})
	if path := os.Getenv("GOHAP_HEAPPROFILE"); path != "" {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR2)
		go func() {
			for range c {
				goruntime.GC()
				for _, p := range []string{"heap", "goroutine"} {
					if f, err := os.Create(path + "." + p); err == nil {
						pprof.Lookup(p).WriteTo(f, 0)
						f.Close()
					}
				}
			}
		}()
	}
}

// record writes to the file named by the variable env, from its _WAIT
// duration after start for its _FOR duration (span if unset), what start
// begins and the function it returns ends.
func record(env string, span time.Duration, start func(io.Writer) (func(), error)) {
	path := os.Getenv(env)
	if path == "" {
		return
	}
	wait, _ := time.ParseDuration(os.Getenv(env + "_WAIT"))
	if d, err := time.ParseDuration(os.Getenv(env + "_FOR")); err == nil && d > 0 {
		span = d
	}
	go func() {
		time.Sleep(wait)
		f, err := os.Create(path)
		if err != nil {
			return
		}
		if stop, err := start(f); err == nil {
			time.Sleep(span)
			stop()
		}
		f.Close()
	}()
}
