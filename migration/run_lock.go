package migration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/strata-go/strata/dialect"
)

// lockConn takes the lock on conn under lctx. If the attempt in flight
// has not answered cleanupGrace after lctx ended (a stalled connection), it
// gives up without waiting for it: a goroutine waits for the answer,
// releases the lock should it have been granted, and closes conn, which
// the caller must then leave alone (abandoned).
func (m *Manager) lockConn(ctx, lctx context.Context, conn *sql.Conn) (abandoned bool, err error) {
	done := make(chan error, 1)
	go func() { done <- m.locker.Lock(lctx, conn) }()
	select {
	case err := <-done:
		return false, err
	case <-lctx.Done():
	}
	grace := time.NewTimer(cleanupGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return false, err
	case <-grace.C:
	}
	go func() {
		if err := <-done; err == nil {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), interruptTimeout)
			if uerr := m.locker.Unlock(uctx, conn); uerr != nil {
				m.cfg.log.WarnContext(uctx, "cannot release a migration lock granted after the run gave up on it; closing its connection", "error", uerr)
			}
			cancel()
		}
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
	}()
	return true, fmt.Errorf("%w (the connection did not answer within %s; it is closed when it does)", context.Cause(lctx), cleanupGrace)
}

// interrupt ends the session id, which holds the migration lock on a
// connection the driver gave up on (a cancelled statement on MySQL), so
// that the server stops its statement and releases the lock now rather
// than when the statement ends.
func (m *Manager) interrupt(ctx context.Context, in dialect.Interrupter, id int64) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, interruptTimeout)
	defer cancel()
	if err := in.Interrupt(ctx, m.db, id); err != nil {
		m.cfg.log.WarnContext(ctx, "cannot end the session that held the migration lock; the server releases the lock when its statement ends",
			"session", id, "error", err)
		return
	}
	m.cfg.log.InfoContext(ctx, "ended the session that held the migration lock", "session", id)
}

// interruptTimeout bounds [Manager.interrupt].
const interruptTimeout = 10 * time.Second
