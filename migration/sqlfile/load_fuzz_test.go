package sqlfile_test

import (
	"testing"
	"testing/fstest"

	"github.com/strata-go/strata/migration/sqlfile"
)

// FuzzLoad checks that any file text loads or fails with an error, never a
// panic, and that a loaded migration's statements can be listed for every
// dialect.
func FuzzLoad(f *testing.F) {
	f.Add("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- +goose Down\nSELECT 2;", "SELECT 3;")
	f.Add("-- +strata requires: a, b\n-- +strata no-transaction\n-- +strata up\nSELECT 1;\n-- +strata down\n", "BEGIN;\nSELECT 1;\nCOMMIT;")
	f.Add("-- +goose NO TRANSACTION\n-- +goose up\n", "")
	f.Fuzz(func(t *testing.T, file, pair string) {
		fsys := fstest.MapFS{
			"1_a.sql":      {Data: []byte(file)},
			"2_b.up.sql":   {Data: []byte(pair)},
			"2_b.down.sql": {Data: []byte(pair)},
		}
		ms, err := sqlfile.Load(fsys, ".")
		if err != nil {
			return
		}
		for _, m := range ms {
			for _, d := range []string{"sqlite", "postgres", "mysql"} {
				for _, down := range []bool{false, true} {
					_, _ = m.(*sqlfile.Migration).Statements(d, down)
				}
			}
		}
	})
}
