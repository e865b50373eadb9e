package locktest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
)

// StubDB returns a *sql.DB whose connections can be pinned but run no
// statements, for lockers that use the connection only as a key, such as
// [lock.File] and [lock.Process]. It is closed when the test ends.
func StubDB(t testing.TB) *sql.DB {
	t.Helper()
	db := sql.OpenDB(stubConnector{})
	t.Cleanup(func() { db.Close() })
	return db
}

var errStub = errors.New("locktest: stub connection runs no statements")

type stubConnector struct{}

func (stubConnector) Connect(context.Context) (driver.Conn, error) { return stubConn{}, nil }
func (stubConnector) Driver() driver.Driver                        { return stubDriver{} }

type stubDriver struct{}

func (stubDriver) Open(string) (driver.Conn, error) { return stubConn{}, nil }

type stubConn struct{}

func (stubConn) Prepare(string) (driver.Stmt, error) { return nil, errStub }
func (stubConn) Close() error                        { return nil }
func (stubConn) Begin() (driver.Tx, error)           { return nil, errStub }
