package sqlfile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
)

// These tests build goose's and golang-migrate's version tables by hand, as
// the tools create them; bench/ adopts databases the real tools migrated.

// TestAdoptGoose: goose applied 1 and 2 (and rolled back 3); adopt records
// exactly those, re-runs nothing, and up applies 3.
func TestAdoptGoose(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			db := tg.open(t)
			ctx := t.Context()
			boolT, boolF := "true", "false"
			if tg.name == "mysql" {
				boolT, boolF = "1", "0"
			}
			for _, stmt := range []string{
				`CREATE TABLE goose_db_version (id int NOT NULL PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL)`,
				`INSERT INTO goose_db_version (id, version_id, is_applied) VALUES (1, 0, ` + boolT + `), (2, 1, ` + boolT + `), (3, 2, ` + boolT + `), (4, 3, ` + boolT + `), (5, 3, ` + boolF + `)`,
				`CREATE TABLE users (id int NOT NULL PRIMARY KEY, username varchar(100) NOT NULL, name varchar(100), surname varchar(100))`,
				`INSERT INTO users VALUES (0, 'admin', '', '')`,
			} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			m, err := migration.NewManager(db, tg.d, load(t, "goose"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Status(ctx); !errors.Is(err, migration.ErrForeignVersionTable) || !strings.Contains(err.Error(), "adopt --from goose") {
				t.Errorf("Status before adopting = %v, want ErrForeignVersionTable saying how to adopt", err)
			}
			if _, err := m.Up(ctx); !errors.Is(err, migration.ErrForeignVersionTable) {
				t.Errorf("Up before adopting = %v, want ErrForeignVersionTable", err)
			}
			if err := m.Validate(ctx); !errors.Is(err, migration.ErrForeignVersionTable) {
				t.Errorf("Validate before adopting = %v, want ErrForeignVersionTable", err)
			}
			if _, err := m.Plan(ctx, migration.Target{Direction: migration.DirectionUp}); !errors.Is(err, migration.ErrForeignVersionTable) {
				t.Errorf("Plan before adopting = %v, want ErrForeignVersionTable", err)
			}
			ids, err := m.Adopt(ctx, migration.AdoptSource{Tool: migration.ToolGoose})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(ids, " ") != "00001_create_users_table 00002_rename_root" {
				t.Errorf("adopted %q", ids)
			}
			res, err := m.Up(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].ID != "00003_no_transaction" {
				t.Errorf("up after adopt ran %v, want only 00003", res)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM goose_db_version`).Scan(&n); err != nil || n != 5 {
				t.Errorf("goose's table changed: %d rows, %v", n, err)
			}
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 1 {
				t.Errorf("users: %d rows, %v (a re-run would have inserted)", n, err)
			}
			h, err := m.History(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !h[0].Baselined || h[2].Baselined {
				t.Errorf("history = %+v", h)
			}
			if rep, err := m.Drift(ctx); err != nil || rep.Drifted() {
				t.Errorf("drift after adopt and up = %v, %v; want none", rep, err)
			}
			again, err := m.Adopt(ctx, migration.AdoptSource{Tool: migration.ToolGoose})
			if err != nil || len(again) != 0 {
				t.Errorf("second adopt = %q, %v; want nothing", again, err)
			}
		})
	}
}

func TestAdoptGolangMigrate(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			for _, tt := range []struct {
				name    string
				version string
				dirty   string
				want    string // adopted, or the error
				wantErr bool
			}{
				{"clean", "2", "false", "1_create_accounts 2_add_city_to_accounts", false},
				{"dirty", "2", "true", "dirty", true},
				{"unknown version", "7", "false", "version(s) 7", true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					db := tg.open(t)
					ctx := t.Context()
					dirty := tt.dirty
					if tg.name == "mysql" {
						dirty = map[string]string{"true": "1", "false": "0"}[dirty]
					}
					for _, stmt := range []string{
						`CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)`,
						`INSERT INTO schema_migrations VALUES (` + tt.version + `, ` + dirty + `)`,
						`CREATE TABLE accounts (id int NOT NULL PRIMARY KEY, email varchar(200) NOT NULL, city varchar(100))`,
					} {
						if _, err := db.ExecContext(ctx, stmt); err != nil {
							t.Fatal(err)
						}
					}
					m, err := migration.NewManager(db, tg.d, load(t, "migrate"))
					if err != nil {
						t.Fatal(err)
					}
					ids, err := m.Adopt(ctx, migration.AdoptSource{Tool: migration.ToolGolangMigrate})
					if tt.wantErr {
						if err == nil || !strings.Contains(err.Error(), tt.want) {
							t.Fatalf("Adopt = %v, want an error with %q", err, tt.want)
						}
						h, herr := m.History(ctx)
						if herr != nil || len(h) != 0 {
							t.Errorf("a refused adopt recorded %v (%v)", h, herr)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if strings.Join(ids, " ") != tt.want {
						t.Errorf("adopted %q, want %q", ids, tt.want)
					}
					res, err := m.Up(ctx)
					if err != nil || len(res) != 1 || res[0].ID != "10_seed_accounts" {
						t.Errorf("up after adopt = %v, %v", res, err)
					}
				})
			}
		})
	}
}
