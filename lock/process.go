package lock

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Process is a lock within one process, for databases no other process can
// reach, such as SQLite's in-memory databases. The zero value is unlocked;
// it must not be copied after first use.
type Process struct {
	once sync.Once
	ch   chan struct{} // holds one token while unlocked

	mu     sync.Mutex
	holder *sql.Conn
}

var _ Locker = (*Process)(nil)

func (p *Process) init() {
	p.once.Do(func() {
		p.ch = make(chan struct{}, 1)
		p.ch <- struct{}{}
	})
}

// Lock waits until the lock is free or ctx is done.
func (p *Process) Lock(ctx context.Context, conn *sql.Conn) error {
	p.init()
	if ctx.Err() != nil {
		return fmt.Errorf("wait for in-process lock: %w", context.Cause(ctx))
	}
	select {
	case <-p.ch:
	case <-ctx.Done():
		return fmt.Errorf("wait for in-process lock: %w", context.Cause(ctx))
	}
	p.mu.Lock()
	p.holder = conn
	p.mu.Unlock()
	return nil
}

// Unlock releases the lock held for conn.
func (p *Process) Unlock(_ context.Context, conn *sql.Conn) error {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holder != conn || len(p.ch) != 0 {
		return fmt.Errorf("lock: unlock in-process lock: not held by this connection")
	}
	p.holder = nil
	p.ch <- struct{}{}
	return nil
}
