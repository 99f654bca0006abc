package logging

import "github.com/gohap/gohap/parser/logfmt"

// The targets are read by the parser (parser/logfmt); these names keep
// the sender's code in its own terms.
type (
	TargetConfig = logfmt.TargetConfig
	Level        = logfmt.Level
	SyslogFormat = logfmt.SyslogFormat
	Kind         = logfmt.TargetKind
	Range        = logfmt.Range
)

const (
	LevelEmerg   = logfmt.LevelEmerg
	LevelAlert   = logfmt.LevelAlert
	LevelCrit    = logfmt.LevelCrit
	LevelErr     = logfmt.LevelErr
	LevelWarning = logfmt.LevelWarning
	LevelNotice  = logfmt.LevelNotice
	LevelInfo    = logfmt.LevelInfo
	LevelDebug   = logfmt.LevelDebug

	SyslogUnspec   = logfmt.SyslogUnspec
	SyslogLocal    = logfmt.SyslogLocal
	SyslogRFC3164  = logfmt.SyslogRFC3164
	SyslogRFC5424  = logfmt.SyslogRFC5424
	SyslogPriority = logfmt.SyslogPriority
	SyslogShort    = logfmt.SyslogShort
	SyslogTimed    = logfmt.SyslogTimed
	SyslogISO      = logfmt.SyslogISO
	SyslogRaw      = logfmt.SyslogRaw

	UDP       = logfmt.UDP
	UnixDgram = logfmt.UnixDgram
	FD        = logfmt.FD
	Stream    = logfmt.Stream
	Ring      = logfmt.Ring

	MaxLenDefault = logfmt.MaxLenDefault
)

// ParseTarget and ParseGlobalTarget read a "log" line's words.
var (
	ParseTarget       = logfmt.ParseTarget
	ParseGlobalTarget = logfmt.ParseGlobalTarget
)
