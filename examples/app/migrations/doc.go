// Package migrations is the schema history of the example application, a
// request-log and mock-server store: servers, the requests they received,
// canned scenarios they answer with, and webhooks they call. Each migration
// is a Go type in a file of its own, named after its ID; [All] lists them.
//
// The history shows what real schemas go through:
//
//   - 0001_servers, then two branches from it, 0002_request_logs and
//     0003_scenarios, merged by 0004_request_log_scenario, which depends on
//     both;
//   - 0006_request_logs_status_class, a data migration that backfills a new
//     column in batches;
//   - 0007_servers_base_url and 0008_servers_drop_host_port, which replace
//     two columns by one: 0008 drops columns with tx.DropColumn (ALTER
//     TABLE on the servers, a table rebuild on SQLite), asks for a backup
//     first, and checks a precondition; its Down adds the columns back,
//     refills them from base_url and drops the defaults it needed to add
//     them (a table rebuild on SQLite), restoring everything but the
//     order of the columns;
//   - 0009_servers_base_url_unique, whose Validate refuses to run while
//     duplicates exist, naming them.
//
// The SQL runs on PostgreSQL, MySQL/MariaDB and SQLite; it branches on
// tx.Dialect().Name() only where the databases differ (auto-increment keys,
// timestamps, dropping indexes, foreign keys and defaults).
//
// The application's tests prove every Down with migrationtest.Run on all
// three databases.
package migrations
