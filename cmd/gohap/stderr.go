package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gohap/gohap/runtime"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// haLine is one process message as HAProxy prints it on its standard
// error (src/errors.c print_message): the label padded to 10 columns,
// the pid, then the text.
func haLine(label, msg string) string {
	return fmt.Sprintf("%-10s (%s) : %s\n", "["+label+"]", pid(), msg)
}

// stderrCore renders the engine's entries as HAProxy's process messages:
// a warning is ha_warning's [WARNING] line, an error or worse ha_alert's
// [ALERT] one, an info entry of the logger runtime.NoticeLogger
// ha_notice's [NOTICE] one. The other info entries and the levels below
// have no counterpart there (HAProxy says nothing while it runs unless
// something went wrong or was changed), so they print nothing. Fields,
// which only gohap's own messages carry, follow the text in parentheses.
type stderrCore struct {
	w      io.Writer
	mu     *sync.Mutex
	fields []zapcore.Field
}

func newLogger(w io.Writer) *zap.Logger {
	return zap.New(&stderrCore{w: w, mu: &sync.Mutex{}})
}

func (c *stderrCore) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

func isNotice(e zapcore.Entry) bool {
	return e.Level == zapcore.InfoLevel && e.LoggerName == runtime.NoticeLogger
}

func (c *stderrCore) With(fs []zapcore.Field) zapcore.Core {
	all := make([]zapcore.Field, 0, len(c.fields)+len(fs))
	return &stderrCore{w: c.w, mu: c.mu, fields: append(append(all, c.fields...), fs...)}
}

func (c *stderrCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Level >= zapcore.WarnLevel || isNotice(e) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *stderrCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	label := "WARNING"
	switch {
	case isNotice(e):
		label = "NOTICE"
	case e.Level > zapcore.WarnLevel:
		label = "ALERT"
	}
	line := haLine(label, e.Message+fieldText(append(c.fields[:len(c.fields):len(c.fields)], fs...)))
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := io.WriteString(c.w, line)
	return err
}

func (c *stderrCore) Sync() error { return nil }

// fieldText is " (key: value, ...)", or nothing without fields.
func fieldText(fs []zapcore.Field) string {
	if len(fs) == 0 {
		return ""
	}
	enc := zapcore.NewMapObjectEncoder()
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		f.AddTo(enc)
		parts = append(parts, fmt.Sprintf("%s: %v", f.Key, enc.Fields[f.Key]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
