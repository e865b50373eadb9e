package lock

import "time"

// SetWait sets the longest wait in the server of l's attempts, so that a
// test can keep one attempt waiting for as long as it needs.
func SetWait(l Locker, d time.Duration) {
	switch l := l.(type) {
	case *Postgres:
		l.wait = d
	case *MySQL:
		l.wait = d
	}
}
