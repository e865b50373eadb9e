package lock_test

import (
	"testing"

	"github.com/strata-go/strata/lock"
	"github.com/strata-go/strata/lock/locktest"
)

func TestProcessConformance(t *testing.T) {
	var p lock.Process
	locktest.Run(t, locktest.StubDB(t), func() lock.Locker { return &p })
}
