package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/backup"
	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
	"github.com/strata-go/strata/dialect/sqlite"
	"github.com/strata-go/strata/examples/app/migrations"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/migration/migrationtest"
	"github.com/strata-go/strata/schema"
)

// TestMigrationsReversible proves every migration of the application
// reversible on each database: each Down restores the schema its Up
// started from, Up again makes what the first Up made, and the data
// migrations keep their rows both ways.
//
// Column order is not compared: 0008_servers_drop_host_port's Down adds
// host and port back at the end of servers, and PostgreSQL and MySQL
// cannot put them back where they were without rebuilding the table.
func TestMigrationsReversible(t *testing.T) {
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			tg := tt.new(t)
			var d dialect.Dialect
			opts := []migrationtest.Option{
				migrationtest.WithCompareOptions(schema.IgnoreColumnOrder()),
				migrationtest.WithData("0006_request_logs_status_class", statusClassData()),
				migrationtest.WithData("0007_servers_base_url", baseURLData()),
				migrationtest.WithData("0008_servers_drop_host_port", dropHostPortData()),
			}
			// 0008 requires a backup: SQLite's backuper is the default;
			// the servers' need the DSN for their client tools.
			switch tg.name {
			case "sqlite":
				d = sqlite.New()
				opts = append(opts, migrationtest.WithManagerOptions(migration.WithBackupDir(t.TempDir())))
			case "postgres":
				d = postgres.New()
				opts = append(opts, migrationtest.WithManagerOptions(
					migration.WithBackuper(backup.NewPostgres(tg.dsn)), migration.WithBackupDir(t.TempDir())))
			case "mysql":
				d = mysql.New()
				opts = append(opts, migrationtest.WithManagerOptions(
					migration.WithBackuper(backup.NewMySQL(tg.dsn)), migration.WithBackupDir(t.TempDir())))
			}
			migrationtest.Run(t, tg.db, d, migrations.All(), opts...)
		})
	}
}

// statusClassData seeds request logs over several batches of
// 0006_request_logs_status_class, with a gap in the ids across a batch
// boundary, and checks that Up classifies every row and Down leaves the
// rows as they were.
func statusClassData() migrationtest.Data {
	seeded := seededLogs()
	classes := map[string]int{}
	sum := 0
	for _, r := range seeded {
		classes[fmt.Sprintf("%dxx", r.status/100)]++
		sum += r.status
	}
	var wantClasses []string
	for _, c := range slices.Sorted(maps.Keys(classes)) {
		wantClasses = append(wantClasses, fmt.Sprintf("%s %d", c, classes[c]))
	}
	return migrationtest.Data{
		Seed: func(ctx context.Context, db dialect.Execer) error {
			if err := execAll(ctx, db, `INSERT INTO servers (name, host, port) VALUES ('alpha', 'alpha.test', 8080)`); err != nil {
				return err
			}
			for chunk := range slices.Chunk(seeded, 200) {
				var values []string
				for _, r := range chunk {
					values = append(values, fmt.Sprintf("(%d, 1, 'GET', '/r/%d', %d)", r.id, r.id, r.status))
				}
				if err := execAll(ctx, db, `INSERT INTO request_logs (id, server_id, method, path, status) VALUES `+strings.Join(values, ", ")); err != nil {
					return err
				}
			}
			return nil
		},
		CheckUp: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, "status classes after Up",
				`SELECT status_class, COUNT(*) FROM request_logs GROUP BY status_class ORDER BY status_class`, wantClasses...)
		},
		CheckDown: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, "request logs after Down", `SELECT COUNT(*), MIN(id), MAX(id), SUM(status) FROM request_logs`,
				fmt.Sprintf("%d 1 %d %d", len(seeded), seededRequests, sum))
		},
	}
}

// logRow is a request log statusClassData seeds.
type logRow struct{ id, status int }

// seededLogs returns the request logs statusClassData seeds: ids 1 to
// seededRequests but for 451 to 550.
func seededLogs() []logRow {
	var seeded []logRow
	statuses := []int{101, 200, 201, 302, 404, 503}
	for i := range seededRequests {
		if id := i + 1; id <= 450 || id > 550 {
			seeded = append(seeded, logRow{id, statuses[i%len(statuses)]})
		}
	}
	return seeded
}

// baseURLData seeds servers with host and port and checks base_url.
func baseURLData() migrationtest.Data {
	return migrationtest.Data{
		Seed: func(ctx context.Context, db dialect.Execer) error {
			return execAll(ctx, db, `INSERT INTO servers (name, host, port) VALUES ('beta', 'beta.test', 80), ('gamma', '::1', 9000)`)
		},
		CheckUp: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, "servers after Up", `SELECT name, base_url FROM servers ORDER BY id`,
				"alpha http://alpha.test:8080", "beta http://beta.test:80", "gamma http://[::1]:9000")
		},
		CheckDown: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, "servers after Down", `SELECT name, host, port FROM servers ORDER BY id`,
				"alpha alpha.test 8080", "beta beta.test 80", "gamma ::1 9000")
		},
	}
}

// dropHostPortData checks that 0008's Down refills host and port from
// base_url, and that the rows of the tables that reference servers
// survive it (on SQLite it rebuilds servers, whose rows they cascade
// from).
func dropHostPortData() migrationtest.Data {
	return migrationtest.Data{
		CheckUp: func(ctx context.Context, db dialect.Execer) error {
			return wantRows(ctx, db, "servers after Up", `SELECT name, base_url FROM servers ORDER BY id`,
				"alpha http://alpha.test:8080", "beta http://beta.test:80", "gamma http://[::1]:9000")
		},
		CheckDown: func(ctx context.Context, db dialect.Execer) error {
			if err := wantRows(ctx, db, "servers after Down", `SELECT name, host, port, base_url FROM servers ORDER BY id`,
				"alpha alpha.test 8080 http://alpha.test:8080", "beta beta.test 80 http://beta.test:80", "gamma ::1 9000 http://[::1]:9000"); err != nil {
				return err
			}
			return wantRows(ctx, db, "request logs after Down", `SELECT COUNT(*) FROM request_logs`, fmt.Sprint(len(seededLogs())))
		},
	}
}

func execAll(ctx context.Context, db dialect.Execer, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// wantRows checks that query returns want, columns joined by spaces.
func wantRows(ctx context.Context, db dialect.Execer, what, query string, want ...string) error {
	got, err := rowStrings(ctx, db, query)
	if err != nil {
		return err
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%s = %q, want %q", what, got, want)
	}
	return nil
}

// rowStrings returns the rows of query, columns joined by spaces.
func rowStrings(ctx context.Context, db dialect.Execer, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", query, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	return out, nil
}
