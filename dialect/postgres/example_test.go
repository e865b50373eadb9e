package postgres_test

import (
	"context"
	"database/sql"
	"log"
	"log/slog"
	"time"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/lock"
)

// Opening a PostgreSQL database and handing the dialect to the manager.
func Example() {
	db, err := sql.Open(postgres.DriverName, "postgres://app@db.example.com:5432/app?sslmode=verify-full")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	d := postgres.New()
	// m, err := migration.NewManager(db, d, migrations)
	_ = d
}

// The lock every migrator of a version table takes, used on its own: pin a
// connection, lock with a bounded wait, and release on the same connection.
func ExampleDialect_Locker() {
	ctx := context.Background()
	db, err := sql.Open(postgres.DriverName, "postgres://app@db.example.com:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	l := postgres.New().Locker(dialect.LockOptions{Table: "app.strata_migrations", Logger: slog.Default()})
	wait, cancel := context.WithTimeoutCause(ctx, time.Minute, lock.ErrTimeout)
	defer cancel()
	if err := l.Lock(wait, conn); err != nil {
		log.Fatal(err) // errors.Is(err, lock.ErrTimeout) after a minute
	}
	defer l.Unlock(context.WithoutCancel(ctx), conn)
	// ... work on conn while no other migrator can ...
}
