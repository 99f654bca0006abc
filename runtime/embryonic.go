package runtime

import (
	"net/netip"
	"os"
	"time"

	"github.com/gohap/gohap/acl"
	"github.com/gohap/gohap/runtime/logging"
)

// embryonic is a connection that failed before it carried a stream: a
// PROXY or NetScaler header that did not come, or a TLS handshake that
// failed.
type embryonic struct {
	l        *listener
	accepted time.Time
	// txn holds the addresses and what else the samples of an
	// error-log-format read; its ConnErr is the failure's code.
	txn *acl.Txn
}

// nullConnErr is what dontlognull does not log: nothing read.
func nullConnErr(code uint8) bool {
	switch code {
	case acl.ConnErrNone, acl.ConnErrPrxEmpty, acl.ConnErrPrxAbort, acl.ConnErrCIPEmpty, acl.ConnErrCIPAbort,
		acl.ConnErrSSLEmpty, acl.ConnErrSSLAbort:
		return true
	}
	return false
}

// timeoutConnErr says the connection's timer expired: HAProxy then kills
// it from its timer task, and %Th is -1.
func timeoutConnErr(code uint8) bool {
	return code == acl.ConnErrPrxTimeout || code == acl.ConnErrCIPTimeout || code == acl.ConnErrSSLTimeout
}

// log sends session_kill_embryonic's line for the connection into buf
// (returned for reuse): the error-log-format's when the frontend has
// one, else "CLIENT:PORT [DATE] FRONTEND/LISTENER: MESSAGE". Either
// needs a log format (the error one counts) and a log target; it goes
// at level err with log-separate-errors, and dontlognull drops the
// connections that sent nothing.
func (em *embryonic) log(e *Engine, buf []byte) []byte {
	l := em.l
	lg := l.fe.log
	code := em.txn.ConnErr
	if lg == nil || lg.logger == nil || lg.format == nil && lg.errFormat == nil || lg.dontLogNull && nullConnErr(code) {
		return buf
	}
	level := logging.LevelInfo
	if lg.sepErrors {
		level = logging.LevelErr
	}
	if lg.errFormat == nil {
		line := logging.AppendConnError(buf[:0], em.txn.Src, l.unix, em.accepted, l.fe.Name, l.bind.Name, l.bind.ID, acl.ConnErrText(code))
		lg.logger.Emit(level, -1, line, nil)
		return line
	}
	r := em.record(e)
	line := lg.errFormat.Append(buf[:0], r)
	if len(line) == 0 {
		return line
	}
	var sd []byte
	if lg.sd != nil {
		sd = lg.sd.Append(nil, r)
	}
	lg.logger.Emit(level, -1, line, sd)
	return line
}

// record is what sess_build_logline shows without a stream: the
// frontend as backend, no server, "PR" as state, the timers that did
// not run at -1, the handshake's time unless it timed out.
func (em *embryonic) record(e *Engine) *logging.Record {
	l, t := em.l, em.txn
	elapsed := time.Since(em.accepted).Milliseconds()
	r := &logging.Record{
		AcceptDate: em.accepted,
		THandshake: elapsed, TIdle: 0, TRequest: -1, TQueue: -1, TConnect: -1, TData: -1, TClose: elapsed,
		Client: t.Src, Frontend: t.Dst,
		ClientUnix: l.unix && !t.Src.IsValid(), FrontendUnix: l.unix && !t.Dst.IsValid(),
		FrontendName: l.fe.Name, BackendName: l.fe.Name, BackendHTTP: l.fe.HTTP,
		Flags:      logging.SFErrPrxCond | logging.SFFinstR,
		ActConn:    e.actconn(),
		FeConn:     l.fe.conns.Load(),
		PID:        os.Getpid(),
		Ctx:        t,
		LogCount:   l.fe.log.count.Add(1) - 1,
		ReqCounter: e.uniq.Add(1) - 1,
	}
	if timeoutConnErr(t.ConnErr) {
		r.THandshake = -1
	}
	if l.bind != nil {
		r.ListenerID = l.bind.ID
		if l.bind.TLS != nil {
			// The connection is a TLS one from its accept: what the
			// handshake agreed on, else what OpenSSL shows before.
			r.FrontendSSL = true
			r.SSLVersion, r.SSLCipher = []byte("TLSv1.3"), []byte("(NONE)")
			if t.TLS != nil {
				r.SSLVersion, r.SSLCipher = []byte(t.TLS.Protocol), []byte(t.TLS.Cipher)
			}
		}
	}
	return r
}

// embryonicTxn is the sample context of a connection with no session.
func (e *Engine) embryonicTxn(l *listener, src, dst netip.AddrPort, code uint8) *acl.Txn {
	return &acl.Txn{Src: src, Dst: dst, FeName: l.fe.Name, BeName: l.fe.Name, ConnErr: code,
		Proc: &e.procVars, ProcMu: &e.procMu, Vars: &acl.Vars{}}
}
