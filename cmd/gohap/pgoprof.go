//go:build pgoprofile

package main

// The CPU profile bench/pgo.sh turns into default.pgo, the profile the
// compiler optimises gohap for: built with -tags pgoprofile only.
// GOHAP_CPUPROFILE names the file, GOHAP_CPUPROFILE_WAIT (a duration)
// lets the load warm the process first, GOHAP_CPUPROFILE_FOR is how long
// it records.

import (
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"time"
)

func init() {
	path := os.Getenv("GOHAP_CPUPROFILE")
	if path == "" {
		return
	}
	wait, _ := time.ParseDuration(os.Getenv("GOHAP_CPUPROFILE_WAIT"))
	span, err := time.ParseDuration(os.Getenv("GOHAP_CPUPROFILE_FOR"))
	if err != nil || span <= 0 {
		span = 5 * time.Second
	}
	go func() {
		time.Sleep(wait)
		f, err := os.Create(path)
		if err != nil {
			return
		}
		// More samples than the default 100 Hz for a short run; pprof
		// then warns that the rate was set already.
		goruntime.SetCPUProfileRate(1000)
		if pprof.StartCPUProfile(f) == nil {
			time.Sleep(span)
			pprof.StopCPUProfile()
		}
		f.Close()
	}()
}
