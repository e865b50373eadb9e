// Command quickstart is the smallest complete strata program: it opens (and
// creates) a SQLite file, ./quickstart.db or the path given as argument,
// and applies three migrations to it, printing each one. A second run finds
// nothing to do.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart /tmp/quickstart.db
package main
