// Package acl is the sample engine (configuration.txt section 7): typed
// samples and HAProxy's casts, sample fetches, converter chains, match
// methods, pattern files and maps, "acl" lines and if/unless conditions.
//
// Expressions compile once (CompileSample, CompileSampleWith, Compile,
// Set.Add) into immutable values that evaluate against a Txn without
// allocating once the Txn's work areas have grown. Maps and pattern files
// live in a Maps registry whose references are updated by copy and atomic
// swap, so readers never lock. The debug converter passes its input
// through and writes nothing. Keywords HAProxy 2.6 has and this package
// does not evaluate (SSL, MQTT, JWT...) are refused with errors
// wrapping ErrNotImplemented.
//
// The sc_*, src_* and table_* keywords read the stick tables of package
// stick: table arguments resolve at compile time through Context.Tables
// (an empty one names Context.Proxy's table), the stream's tracked entries
// are Txn.Track (and Txn.SessTrack), which the engine fills with TrackSC,
// bumps with IncHTTPReq, IncHTTPErr, IncHTTPFail, AddBytesIn and
// AddBytesOut, and releases with ReleaseTracked at the end of the stream.
package acl
