// Package migrationtest proves, in a test, that a set of migrations is
// reversible in fact and not only on paper: every Down restores exactly the
// schema its Up started from, and Up again yields exactly what it made the
// first time.
//
// One call does it, against a database of the test's own:
//
//	func TestMigrations(t *testing.T) {
//		db, err := sqlite.Open(filepath.Join(t.TempDir(), "app.db"))
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer db.Close()
//		migrationtest.Run(t, db, sqlite.New(), migrations.All())
//	}
//
// [Run] drives a [migration.Manager] through its public API and compares
// schemas described by the dialect's [schema.Inspector]; a failure names
// the migration and prints the difference:
//
//	migrationtest: migration "0003_items_name": the schema after Down differs from the schema before Up (- before Up, + after Down):
//	+ index items_name_idx on items: (name)
//
// [Data] hooks seed rows before a migration and check them after its Up
// and Down, to prove data migrations too. Run takes a [testing.TB], so it
// also runs in benchmarks and fuzz tests, and its own reports can be
// tested.
package migrationtest
