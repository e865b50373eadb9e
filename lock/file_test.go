package lock_test

import (
	"path/filepath"
	"testing"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestFileConformance(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite.lock")
	locktest.Run(t, locktest.StubDB(t), func() lock.Locker { return lock.NewFile(path, nil) })
}

func TestFileSharedLocker(t *testing.T) {
	// One File value shared by every migrator of the process must exclude
	// them from each other as separate values do.
	l := lock.NewFile(filepath.Join(t.TempDir(), "db.sqlite.lock"), nil)
	locktest.Run(t, locktest.StubDB(t), func() lock.Locker { return l })
}
