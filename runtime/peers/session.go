package peers

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gohap/gohap/acl/stick"
)

// session is a connection with a peer once its handshake is done, or
// being done (the peer applet's appctx).
type session struct {
	sec  *Section
	p    *peer
	conn net.Conn
	r    *bufio.Reader
	wake chan struct{}
	// closed is closed by shutdown.
	closed    chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex // guards conn while dialing
	tx        txDict
	rx        rxDict
	out       []byte
}

func newSession(s *Section, p *peer) *session {
	return &session{sec: s, p: p, wake: make(chan struct{}, 1), closed: make(chan struct{})}
}

// poke wakes the session to send what is pending.
func (ss *session) poke() {
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}

// shutdown ends the session.
func (ss *session) shutdown() {
	ss.closeOnce.Do(func() {
		close(ss.closed)
		ss.mu.Lock()
		if ss.conn != nil {
			ss.conn.Close()
		}
		ss.mu.Unlock()
	})
}

func (ss *session) isClosed() bool {
	select {
	case <-ss.closed:
		return true
	default:
		return false
	}
}

// dial connects to the peer and sends the handshake (PEER_SESS_ST_CONNECT,
// PEER_SESS_ST_GETSTATUS), then runs the session.
func (ss *session) dial() {
	defer ss.sec.wg.Done()
	s, p := ss.sec, ss.p
	end := func() {
		ss.shutdown()
		s.mu.Lock()
		if p.sess == ss {
			p.deinit()
		}
		s.mu.Unlock()
	}
	var c net.Conn
	c, err := net.DialTimeout("tcp", p.addr, connectTimeout)
	if err != nil {
		end()
		return
	}
	if p.tls != nil {
		c = tls.Client(c, p.tls)
	}
	ss.mu.Lock()
	ss.conn = c
	ss.mu.Unlock()
	if ss.isClosed() {
		c.Close()
		end()
		return
	}
	s.mu.Lock()
	minor := protoMinor
	if p.flags&fDowngrade != 0 {
		minor = protoMinorDowngrade
	}
	s.mu.Unlock()
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.Write(AppendHello(nil, minor, p.name, s.cfg.LocalName, s.pid)); err != nil {
		end()
		return
	}
	s.mu.Lock()
	if p.sess == ss {
		p.status = statusConnected
	}
	s.mu.Unlock()
	ss.r = bufio.NewReaderSize(c, maxMessage+16)
	line, err := readLine(ss.r)
	if err != nil {
		end()
		return
	}
	c.SetDeadline(time.Time{})
	code, _ := readUint(leadingDigits(line))
	s.mu.Lock()
	if p.sess != ss {
		s.mu.Unlock()
		end()
		return
	}
	p.status = code
	s.kick()
	if code != statusSuccess {
		if code == statusErrVers {
			p.flags |= fDowngrade
		}
		s.logf("peer %s/%s: handshake refused with status %d", s.cfg.Name, p.name, code)
		s.mu.Unlock()
		end()
		return
	}
	p.initConnected(time.Now())
	s.mu.Unlock()
	ss.run()
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// errHandedOver ends the session of a hand-over once confirmed.
var errHandedOver = errors.New("handed over")

type readResult struct {
	m   Message
	err error
}

// run exchanges messages until the session ends (PEER_SESS_ST_WAITMSG).
func (ss *session) run() {
	s, p := ss.sec, ss.p
	defer func() {
		ss.shutdown()
		s.mu.Lock()
		if p.sess == ss {
			p.deinit()
		}
		s.mu.Unlock()
	}()
	msgs := make(chan readResult, 64)
	go func() {
		for {
			m, _, err := ReadMessage(ss.r, nil)
			select {
			case msgs <- readResult{m, err}:
			case <-ss.closed:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	ss.poke()
	for {
		var err error
		select {
		case <-ss.closed:
			return
		case rr := <-msgs:
			s.mu.Lock()
			err = ss.handleRead(rr)
			for err == nil && len(msgs) > 0 {
				err = ss.handleRead(<-msgs)
			}
			if err == nil {
				ss.prepare()
			}
			s.mu.Unlock()
		case <-ss.wake:
			s.mu.Lock()
			ss.prepare()
			s.mu.Unlock()
		}
		if err != nil {
			switch {
			case errors.Is(err, errMalformed):
				ss.out = append(ss.out, classError, errProtocol)
			case errors.Is(err, errSize):
				ss.out = append(ss.out, classError, errSizeLimit)
			}
		}
		if len(ss.out) > 0 {
			ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			_, werr := ss.conn.Write(ss.out)
			ss.out = ss.out[:0]
			if werr != nil {
				return
			}
		}
		if err != nil {
			if errors.Is(err, errMalformed) || errors.Is(err, errSize) {
				s.logf("peer %s/%s: %v", s.cfg.Name, p.name, err)
			}
			return
		}
	}
}

// handleRead treats a message read; the section lock is held.
func (ss *session) handleRead(rr readResult) error {
	if rr.err != nil {
		return rr.err
	}
	if ss.p.sess != ss {
		return errors.New("replaced")
	}
	if err := ss.handle(rr.m, time.Now()); err != nil {
		return err
	}
	ss.p.flags |= fAlive
	return nil
}

// handle treats a message (peer_treat_awaited_msg); the section lock is
// held.
func (ss *session) handle(m Message, now time.Time) error {
	s, p := ss.sec, ss.p
	switch m.Class {
	case classControl:
		switch m.Type {
		case ctrlResyncReq:
			for _, st := range p.tables {
				st.teachOrigin, st.lastPushed = st.update, st.update
				st.taught = false
			}
			p.flags &^= fTeachProcess | fTeachFinished
			p.flags |= fTeachProcess
		case ctrlResyncFinished:
			if p.flags&fLearnAssign != 0 {
				p.flags &^= fLearnAssign
				s.flags &^= resyncAssign | resyncProcess
				s.flags |= resyncLocal | resyncRemote
			}
			p.confirm++
		case ctrlResyncPartial:
			if p.flags&fLearnAssign != 0 {
				p.flags &^= fLearnAssign
				s.flags &^= resyncAssign | resyncProcess
				p.flags |= fLearnNotUp2Date
				s.resync = now.Add(resyncTimeout)
				s.kick()
			}
			p.confirm++
		case ctrlResyncConfirm:
			if s.stopping {
				// the new process has it all: done
				s.taughtOnce.Do(func() { close(s.taught) })
				return errHandedOver
			}
			for _, st := range p.tables {
				st.update, st.lastPushed = st.teachOrigin, st.teachOrigin
				st.taught = false
			}
			p.flags &^= fTeachProcess | fTeachFinished
		case ctrlHeartbeat:
			p.reconnect = now.Add(reconnectTimeout)
		}
	case classStickTable:
		switch m.Type {
		case stktDefine:
			return ss.define(m.Body)
		case stktSwitch:
			id, err := DecodeSwitch(m.Body)
			if err != nil {
				return err
			}
			p.remote = nil
			for _, st := range p.tables {
				if st.remoteID == id {
					p.remote = st
					break
				}
			}
		case stktUpdate, stktIncUpdate, stktUpdateTimed, stktIncUpdateTimed:
			return ss.update(m)
		case stktAck:
			if p.flags&fTeachProcess != 0 {
				return nil
			}
			id, upd, err := DecodeAck(m.Body)
			if err != nil {
				return err
			}
			for _, st := range p.tables {
				if st.localID == id {
					st.update = upd
					break
				}
			}
		}
	case classReserved:
		return errMalformed
	}
	return nil
}

// define treats a define message (peer_treat_definemsg).
func (ss *session) define(body []byte) error {
	p := ss.p
	var found *shared
	def, err := DecodeDefine(body, func(name string) bool {
		p.remote = nil
		id, _ := Varint(body)
		for _, st := range p.tables {
			if st.remoteID == id {
				st.remoteID = 0
			}
			if found == nil && st.name == name {
				found = st
			}
		}
		return found != nil
	})
	switch {
	case errors.Is(err, errMalformed):
		return err
	case err != nil:
		return nil
	}
	c := found.table.Config()
	if kt, ok := keyTypeOf(def.KeyType); !ok || kt != c.Type || def.KeyLen != uint64(c.KeySize) {
		return nil
	}
	found.def, found.remoteID = def, def.ID
	p.remote = found
	return nil
}

// update treats an update message (peer_treat_updatemsg).
func (ss *session) update(m Message) error {
	st := ss.p.remote
	if st == nil {
		return nil
	}
	rt := RemoteTable{Def: st.def, Table: st.table}
	now := st.table.Now()
	u, err := DecodeUpdate(m.Type, m.Body, &rt, now, &ss.rx)
	if u.HasID {
		st.lastGet = u.ID
	} else {
		st.lastGet++
	}
	if err != nil {
		return err
	}
	exp := st.table.Config().Expire
	if u.Timed {
		exp = u.Expire
	}
	k := st.table.PeerKey(u.Key)
	st.table.ApplyRemote(&k, exp, u.Values)
	return nil
}

// prepare builds the messages to send (peer_send_msgs); the section lock
// is held.
func (ss *session) prepare() {
	s, p := ss.sec, ss.p
	if p.sess != ss {
		return
	}
	if p.flags&fHeartbeat != 0 {
		p.flags &^= fHeartbeat
		ss.out = append(ss.out, classControl, ctrlHeartbeat)
	}
	if p.flags&fLearnAssign != 0 && s.flags&resyncAssign != 0 && s.flags&resyncProcess == 0 {
		ss.out = append(ss.out, classControl, ctrlResyncReq)
		s.flags |= resyncProcess
	}
	for _, st := range p.tables {
		if st.lastGet != st.lastAcked {
			ss.out = AppendAck(ss.out, st.remoteID, st.lastGet)
			st.lastAcked = st.lastGet
		}
		if p.flags&fTeachProcess == 0 {
			if p.flags&fLearnAssign == 0 && st.lastPushed != st.table.LocalUpdate() {
				ss.teachProcess(st)
			}
		} else if p.flags&fTeachFinished == 0 && !st.taught {
			ss.teachAll(st)
			st.taught = true
		}
	}
	if p.flags&fTeachProcess != 0 && p.flags&fTeachFinished == 0 {
		typ := byte(ctrlResyncPartial)
		if s.flags&(resyncLocal|resyncRemote) == resyncLocal|resyncRemote {
			typ = ctrlResyncFinished
		}
		ss.out = append(ss.out, classControl, typ)
		p.flags |= fTeachFinished
	}
	for ; p.confirm > 0; p.confirm-- {
		ss.out = append(ss.out, classControl, ctrlResyncConfirm)
	}
}

// announce sends the table's definition before its first update.
func (ss *session) announce(st *shared) {
	if ss.p.lastLocal != st {
		ss.out = AppendDefine(ss.out, st.localID, st.name, st.table)
		ss.p.lastLocal = st
	}
}

// maxBatch bounds the updates one wake-up pushes for a table.
const maxBatch = 1 << 16

// teachProcess pushes the local changes after the last pushed one.
func (ss *session) teachProcess(st *shared) {
	ss.announce(st)
	ups, last := st.table.LocalUpdates(st.lastPushed, maxBatch)
	ss.push(st, ups, false)
	if len(ups) < maxBatch {
		st.lastPushed = last
	} else {
		ss.poke()
	}
}

// teachAll pushes every entry of the table, with its expiry, to a peer
// that asked for a resync (teach stages 1 and 2).
func (ss *session) teachAll(st *shared) {
	ss.announce(st)
	ss.push(st, st.table.AllUpdates(st.lastPushed), ss.p.flags&fDowngrade == 0)
}

func (ss *session) push(st *shared, ups []stick.Update, timed bool) {
	now := st.table.Now()
	first := true
	for _, u := range ups {
		withID := first || st.lastPushed == 0 || u.ID-st.lastPushed != 1
		ss.out = AppendUpdate(ss.out, st.table, u.Entry, u.ID, withID, timed, now, &ss.tx)
		st.lastPushed = u.ID
		first = false
		u.Entry.Release()
	}
}
