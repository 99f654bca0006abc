package stats

import (
	"fmt"
	"time"
)

// ProxySource finds the proxies by name.
type ProxySource interface {
	// ProxyID is a proxy's id (uuid) by name, 0 when none has it.
	ProxyID(name string) int
}

// errorCommands is "show errors" (src/proxy.c).
func errorCommands() []command {
	return []command{
		{words: []string{"show", "errors"}, usage: "show errors [<px>] [request|response]   : report last request and/or response errors for each proxy", run: (*session).showErrors},
	}
}

// monthNames are HAProxy's monthname.
var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// showErrors is "show errors [<proxy>] [request|response]", at level
// operator. gohap keeps no snapshot of invalid messages, so the dump
// has its heading and no event.
func (ss *session) showErrors(args []string) bool {
	if ss.level < LevelOperator {
		ss.out.WriteString(permissionDenied)
		return false
	}
	if name := arg(args, 2); name != "" {
		id := 0
		if ps, ok := ss.srv.src.(ProxySource); ok {
			id = ps.ProxyID(name)
		}
		if id == 0 {
			id = atoi(name)
		}
		if id == 0 {
			ss.out.WriteString("No such proxy.\n")
			return false
		}
	}
	now := time.Now()
	fmt.Fprintf(ss.out, "Total events captured on [%02d/%s/%04d:%02d:%02d:%02d.%03d] : 0\n", now.Day(), monthNames[now.Month()-1],
		now.Year(), now.Hour(), now.Minute(), now.Second(), now.Nanosecond()/1e6)
	return false
}
