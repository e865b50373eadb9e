// Package mysqlswap puts a restored MySQL or MariaDB database in place of
// the one it restores, in a way that a process killed at any moment leaves
// something the next run can finish or undo.
//
// A restore loads its dump into a scratch database first. [Swap] then
// moves the tables with one RENAME TABLE, which the server does all or
// nothing: the target's tables go to a hold database, the scratch
// database's to the target. Triggers cannot move between databases, nor
// views and routines be renamed into another, so they are dropped and
// created again around the RENAME. Before it changes anything, Swap
// writes a journal into the hold database: the tables on both sides and
// every view, trigger and routine with the statement that creates it. The
// journal lives exactly as long as the hold database, which Swap drops
// when it is done or has put the old state back.
//
// [Recover] finds the hold databases a killed swap left and, from the
// journal and where the tables are, either finishes the swap (the tables
// had moved) or puts the old views, triggers and routines back (they had
// not). Either way the target ends up exactly as it was or exactly as the
// dump has it, and running Recover again after it was itself interrupted
// still gets there.
//
// The package uses database/sql only, so that the MySQL dialect can run
// Recover without importing the backup tools.
package mysqlswap
