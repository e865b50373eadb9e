// Package countdb wraps a database/sql driver to count what a migration tool
// asks of the database: statements executed, queries, transactions begun
// and committed, and writes committed on their own (outside a transaction);
// and to split the time spent in the driver between DDL (the benchmark
// migrations' own statements) and everything else. Counts do not depend on
// the machine's load, so they explain timings that do.
package countdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync/atomic"
	"time"
)

// Counts is what the wrapped connections were asked to do.
type Counts struct {
	Exec     atomic.Int64 // statements executed (ExecContext)
	Query    atomic.Int64 // queries (QueryContext)
	Prepare  atomic.Int64 // statements prepared (MySQL prepares every statement with arguments)
	Begin    atomic.Int64 // transactions begun
	Commit   atomic.Int64 // transactions committed
	Rollback atomic.Int64 // transactions rolled back
	AutoExec atomic.Int64 // statements executed outside a transaction, each its own commit
	TxDDL    atomic.Int64 // DDL statements executed inside a transaction (MySQL commits them implicitly)
	DDL      atomic.Int64 // nanoseconds spent in DDL statements (the benchmark migrations' own work)
	Other    atomic.Int64 // nanoseconds spent in every other call: queries, bookkeeping, BEGIN, COMMIT
}

// Snapshot is a copy of Counts at one moment.
type Snapshot struct {
	Exec, Query, Prepare, Begin, Commit, Rollback, AutoExec, TxDDL int64
	DDL, Other                                                     time.Duration
}

// Snapshot copies the counts.
func (c *Counts) Snapshot() Snapshot {
	return Snapshot{c.Exec.Load(), c.Query.Load(), c.Prepare.Load(), c.Begin.Load(), c.Commit.Load(), c.Rollback.Load(), c.AutoExec.Load(), c.TxDDL.Load(), time.Duration(c.DDL.Load()), time.Duration(c.Other.Load())}
}

// Sub returns s minus o.
func (s Snapshot) Sub(o Snapshot) Snapshot {
	return Snapshot{s.Exec - o.Exec, s.Query - o.Query, s.Prepare - o.Prepare, s.Begin - o.Begin, s.Commit - o.Commit, s.Rollback - o.Rollback, s.AutoExec - o.AutoExec, s.TxDDL - o.TxDDL, s.DDL - o.DDL, s.Other - o.Other}
}

// Statements is every statement sent: executions, queries, and the BEGIN,
// COMMIT and ROLLBACK of transactions.
func (s Snapshot) Statements() int64 {
	return s.Exec + s.Query + s.Begin + s.Commit + s.Rollback
}

// Commits is every commit: explicit ones and statements executed outside
// a transaction, plus, if implicitDDL (MySQL), DDL executed inside one.
func (s Snapshot) Commits(implicitDDL bool) int64 {
	n := s.Commit + s.AutoExec
	if implicitDDL {
		n += s.TxDDL
	}
	return n
}

// Open returns a *sql.DB whose connections come from d with dsn and are
// counted in c.
func Open(d driver.Driver, dsn string, c *Counts) *sql.DB {
	return sql.OpenDB(&connector{d: d, dsn: dsn, c: c})
}

type connector struct {
	d   driver.Driver
	dsn string
	c   *Counts
}

func (k *connector) Connect(ctx context.Context) (driver.Conn, error) {
	var (
		dc  driver.Conn
		err error
	)
	if dctx, ok := k.d.(driver.DriverContext); ok {
		var inner driver.Connector
		if inner, err = dctx.OpenConnector(k.dsn); err != nil {
			return nil, err
		}
		dc, err = inner.Connect(ctx)
	} else {
		dc, err = k.d.Open(k.dsn)
	}
	if err != nil {
		return nil, err
	}
	return &conn{Conn: dc, c: k.c}, nil
}

func (k *connector) Driver() driver.Driver { return k.d }

// conn counts and forwards. It implements the optional interfaces the
// drivers used here implement, and falls back where one is missing.
type conn struct {
	driver.Conn
	c    *Counts
	inTx bool
}

var (
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := time.Now()
	res, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip { // skipped: database/sql prepares and executes instead
		c.counted(query, start)
	}
	return res, err
}

func (c *conn) counted(query string, start time.Time) {
	d := int64(time.Since(start))
	if isDDL(query) {
		c.c.DDL.Add(d)
	} else {
		c.c.Other.Add(d)
	}
	c.c.Exec.Add(1)
	switch {
	case !c.inTx:
		c.c.AutoExec.Add(1)
	case isDDL(query):
		c.c.TxDDL.Add(1)
	}
}

// isDDL reports whether query starts with a statement that MySQL commits
// implicitly.
func isDDL(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	for _, kw := range []string{"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE"} {
		if len(q) >= len(kw) && strings.EqualFold(q[:len(kw)], kw) {
			return true
		}
	}
	return false
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	defer c.timed(time.Now())
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		c.c.Query.Add(1)
	}
	return rows, err
}

// timed adds the time since start to Other.
func (c *conn) timed(start time.Time) { c.c.Other.Add(int64(time.Since(start))) }

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	defer c.timed(time.Now())
	c.c.Prepare.Add(1)
	var (
		s   driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &stmt{Stmt: s, conn: c, query: query}, nil
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	defer c.timed(time.Now())
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		//lint:ignore SA1019 the fallback for drivers without BeginTx
		tx, err = c.Conn.Begin()
	}
	if err != nil {
		return nil, err
	}
	c.c.Begin.Add(1)
	c.inTx = true
	return &txn{Tx: tx, conn: c}, nil
}

func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *conn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type txn struct {
	driver.Tx
	conn *conn
}

func (t *txn) Commit() error {
	defer t.conn.timed(time.Now())
	t.conn.inTx = false
	t.conn.c.Commit.Add(1)
	return t.Tx.Commit()
}

func (t *txn) Rollback() error {
	defer t.conn.timed(time.Now())
	t.conn.inTx = false
	t.conn.c.Rollback.Add(1)
	return t.Tx.Rollback()
}

// stmt counts executions of prepared statements.
type stmt struct {
	driver.Stmt
	conn  *conn
	query string
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	defer s.conn.counted(s.query, time.Now())
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, errors.New("countdb: statement without ExecContext")
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	defer s.conn.timed(time.Now())
	s.conn.c.Query.Add(1)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("countdb: statement without QueryContext")
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
