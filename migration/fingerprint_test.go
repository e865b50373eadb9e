package migration_test

import (
	"testing"

	"github.com/strata-go/strata/migration"
)

// TestGoMigrationsFingerprint pins the fingerprint the newest version row
// carries for Go migrations, which have no checksum: it is the one strata
// wrote before checksums were part of it, so that existing databases stay
// up to date without a write.
func TestGoMigrationsFingerprint(t *testing.T) {
	db := openDB(t)
	ms := []migration.Migration{table("0001_init"), table("0002_users", "0001_init"), table("0003_orders", "0001_init")}
	if _, err := newManager(t, db, ms).Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	const want = "3:d664184cd3b70b19df9c77a2bda4780b490398e2c148857c1e1c87c730799d17"
	var got string
	if err := db.QueryRowContext(t.Context(), `SELECT fingerprint FROM strata_migrations ORDER BY seq DESC LIMIT 1`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("head fingerprint = %s, want %s", got, want)
	}
	wantUpToDate(t, db, ms)
}
