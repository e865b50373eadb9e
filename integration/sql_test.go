package integration

import (
	"strings"
	"testing"

	"github.com/strata-go/strata/migration"
)

// TestSQLSeveralStatements: a migration.SQL of several statements runs on
// every database, MySQL without multiStatements included, with a body
// whose own semicolons are no terminators; Down undoes it; a failing
// statement is named with its line, and on MySQL the statements before it
// stay applied, which the dirty record says.
func TestSQLSeveralStatements(t *testing.T) {
	for _, tgt := range targets() {
		t.Run(tgt.Name, func(t *testing.T) {
			d := tgt.open(t)
			trigger := `CREATE TRIGGER s_ai AFTER INSERT ON s_a FOR EACH ROW BEGIN
	INSERT INTO s_b (n) VALUES (NEW.n);
	INSERT INTO s_b (n) VALUES (NEW.n + 1);
END`
			if tgt.Dialect.Name() == "postgres" {
				trigger = `CREATE FUNCTION s_f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO s_b (n) VALUES (NEW.n);
	INSERT INTO s_b (n) VALUES (NEW.n + 1);
	RETURN NEW;
END $$;
CREATE TRIGGER s_ai AFTER INSERT ON s_a FOR EACH ROW EXECUTE FUNCTION s_f()`
			}
			up := "-- two tables and a trigger\nCREATE TABLE s_a (n INTEGER);\nCREATE TABLE s_b (n INTEGER); -- 'quoted; not a terminator'\n" + trigger + ";\nINSERT INTO s_a (n) VALUES (10);\n"
			down := "DROP TABLE s_b;\nDROP TABLE s_a;"
			if tgt.Dialect.Name() == "postgres" {
				down += "\nDROP FUNCTION s_f();"
			}
			ms := []migration.Migration{migration.SQL("0001_several", up, down)}
			m := d.manager(ms)
			if _, err := m.Up(t.Context()); err != nil {
				t.Fatalf("Up: %v", err)
			}
			if got := strs(t, d.DB, `SELECT n FROM s_b ORDER BY n`); strings.Join(got, ",") != "10,11" {
				t.Fatalf("rows the trigger wrote = %v, want 10,11", got)
			}
			if _, err := m.Down(t.Context()); err != nil {
				t.Fatalf("Down: %v", err)
			}
			if d.hasTable("s_a") || d.hasTable("s_b") {
				t.Fatal("Down left tables")
			}

			bad := []migration.Migration{migration.SQL("0001_bad", "CREATE TABLE s_c (n INTEGER);\nINSERT INTO s_nowhere VALUES (1);", "DROP TABLE s_c;")}
			_, err := d.manager(bad).Up(t.Context())
			if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "s_nowhere") {
				t.Fatalf("Up of a failing second statement = %v, want it named with its line", err)
			}
			if tgt.Dialect.TransactionalDDL() {
				if d.hasTable("s_c") {
					t.Fatal("the first statement stayed although the migration rolled back")
				}
			} else {
				if !d.hasTable("s_c") {
					t.Fatal("the first statement did not run")
				}
				_, err := d.manager(bad).Up(t.Context())
				wantDirty(t, err, "0001_bad")
			}
		})
	}
}
