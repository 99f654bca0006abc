package comp

// Algo is a compression algorithm of "compression algo". The zero value,
// None, means no compression.
type Algo uint8

// Algorithms, as HAProxy's comp_algos table names them.
const (
	None Algo = iota
	Identity
	Deflate    // zlib format (RFC 1950), announced as "deflate"
	RawDeflate // bare deflate (RFC 1951), also announced as "deflate"
	Gzip
)

var algoNames = [...]struct{ cfg, ua string }{
	None:       {"", ""},
	Identity:   {"identity", "identity"},
	Deflate:    {"deflate", "deflate"},
	RawDeflate: {"raw-deflate", "deflate"},
	Gzip:       {"gzip", "gzip"},
}

// String is the configuration name.
func (a Algo) String() string { return algoNames[a].cfg }

// Token is the name used in Accept-Encoding and Content-Encoding.
func (a Algo) Token() string { return algoNames[a].ua }

// ParseAlgo reads a "compression algo" word. The error text is HAProxy's.
func ParseAlgo(word string) (Algo, error) {
	for a := Identity; a <= Gzip; a++ {
		if algoNames[a].cfg == word {
			return a, nil
		}
	}
	return None, algoError(word)
}

type algoError string

func (e algoError) Error() string {
	return "'compression' : '" + string(e) + "' is not a supported algorithm."
}

// Config is one proxy's "compression" settings.
type Config struct {
	// Algos lists "compression algo" words in configuration order. HAProxy
	// keeps them in reverse order, which decides "*" and "deflate" when
	// both deflate algorithms are listed: the last one configured wins.
	Algos []Algo
	// Types lists "compression type" words. Empty means any type.
	Types []string
	// Offload is "compression offload": Accept-Encoding is removed from
	// requests for which an algorithm was chosen.
	Offload bool
}

// Merge gives the settings a stream uses: the backend's algorithms and
// types when it has some, else the frontend's, and offload from either.
// A nil Config has no "compression" line.
func Merge(fe, be *Config) Config {
	var c Config
	for _, p := range [...]*Config{be, fe} {
		if p == nil {
			continue
		}
		if len(c.Algos) == 0 {
			c.Algos = p.Algos
		}
		if len(c.Types) == 0 {
			c.Types = p.Types
		}
		c.Offload = c.Offload || p.Offload
	}
	return c
}

// Limits are the global conditions that switch compression off for a new
// response; the engine measures them.
type Limits struct {
	// RateExceeded: "maxcomprate" is set and the compression input rate
	// of the last second is above it.
	RateExceeded bool
	// CPUBusy: the thread's idle percentage is below 100 minus
	// "maxcompcpuusage".
	CPUBusy bool
}

// "maxzlibmem" changes nothing: HAProxy 2.6 checks it only when built with
// zlib, and the reference build uses libslz.
