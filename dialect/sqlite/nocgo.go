//go:build !cgo

package sqlite

// This package wraps mattn/go-sqlite3, which compiles SQLite's C source:
// it needs cgo. Without it (CGO_ENABLED=0, or no C compiler found, which
// turns cgo off by default) the build stops here with an error naming
// the fix, before the less telling errors of the files that use the
// driver's types. Build with CGO_ENABLED=1 and gcc or clang installed;
// a program that uses only PostgreSQL or MySQL should not import this
// package, and then needs no cgo.
var _ = sqlite_requires_cgo_build_with_CGO_ENABLED_1_and_a_C_compiler
