// Package sqlsplit cuts SQL text into statements the way the databases'
// own command-line clients do, so that each can be sent on its own: MySQL
// runs one statement per call unless the DSN asks for multiStatements, and
// PostgreSQL runs several in one call as one implicit transaction. Package
// migration/sqlfile exports it as [sqlfile.Split]; [migration.SQL] uses it
// too.
package sqlsplit
