// Package locktest is a conformance suite for [lock.Locker]
// implementations: the built-in lockers run it, and so can a custom one.
//
//	func TestMyLocker(t *testing.T) {
//		db := openTestDatabase(t)
//		locktest.Run(t, db, func() lock.Locker { return mylock.New("strata_migrations") })
//	}
//
// The suite takes connections from db as separate migrators would, and
// checks that the lock excludes them from each other, is handed over
// promptly, honours context deadlines, cancellation and [lock.ErrTimeout],
// refuses to release what is not held, and leaves nothing behind when a
// waiter gives up.
//
// [RunAcrossProcesses] checks what only another process can show: that a
// lock whose holder dies is free at once.
package locktest
