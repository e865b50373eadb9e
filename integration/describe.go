package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/strata-go/strata/dialect"
)

// Table is one table of a database, as a [Target]'s Describe reports it.
type Table struct {
	// Name is the table's name, qualified as "schema.table" when it is
	// not in the connection's current schema.
	Name string
	// Columns are "name type NULL" or "name type NOT NULL", in the order
	// the table declares them.
	Columns []string
	// Indexes are the names of the table's indexes, sorted, including
	// those the database creates for primary keys and unique constraints.
	Indexes []string
}

// DescribeSQLite lists the tables of the main database of a SQLite
// connection, from sqlite_schema and pragma_table_info.
func DescribeSQLite(ctx context.Context, q dialect.Execer) ([]Table, error) {
	return describe(ctx, q,
		`SELECT m.name, p.name, p.type, CASE WHEN p."notnull" THEN 'NO' ELSE 'YES' END
		FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY m.name, p.cid`,
		`SELECT tbl_name, name FROM sqlite_schema WHERE type = 'index' ORDER BY tbl_name, name`)
}

// DescribePostgres lists the tables of every schema of the connection's
// database except the system ones, from information_schema and pg_indexes.
// Tables outside current_schema() are named "schema.table".
func DescribePostgres(ctx context.Context, q dialect.Execer) ([]Table, error) {
	return describe(ctx, q,
		`SELECT CASE WHEN c.table_schema = current_schema() THEN c.table_name
		             ELSE c.table_schema || '.' || c.table_name END,
		        c.column_name, c.data_type, c.is_nullable
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
		ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
		`SELECT CASE WHEN schemaname = current_schema() THEN tablename
		             ELSE schemaname || '.' || tablename END, indexname
		FROM pg_catalog.pg_indexes
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
		ORDER BY 1, 2`)
}

// DescribeMySQL lists the tables of the connection's current database
// (DATABASE()), from information_schema.
func DescribeMySQL(ctx context.Context, q dialect.Execer) ([]Table, error) {
	return describe(ctx, q,
		`SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE
		FROM information_schema.COLUMNS c
		JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
		WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
		ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
		`SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2`)
}

// describe runs a query returning (table, column, type, "YES"|"NO") rows
// and one returning (table, index) rows, and assembles the tables.
func describe(ctx context.Context, q dialect.Execer, columns, indexes string) ([]Table, error) {
	byName := map[string]*Table{}
	var order []string
	rows, err := q.QueryContext(ctx, columns)
	if err != nil {
		return nil, fmt.Errorf("describe columns: %w", err)
	}
	for rows.Next() {
		var table, column, typ, nullable string
		if err := rows.Scan(&table, &column, &typ, &nullable); err != nil {
			rows.Close()
			return nil, fmt.Errorf("describe columns: %w", err)
		}
		t, ok := byName[table]
		if !ok {
			t = &Table{Name: table}
			byName[table] = t
			order = append(order, table)
		}
		null := "NULL"
		if nullable == "NO" {
			null = "NOT NULL"
		}
		t.Columns = append(t.Columns, column+" "+strings.ToLower(typ)+" "+null)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("describe columns: %w", err)
	}
	rows.Close()

	rows, err = q.QueryContext(ctx, indexes)
	if err != nil {
		return nil, fmt.Errorf("describe indexes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, index string
		if err := rows.Scan(&table, &index); err != nil {
			return nil, fmt.Errorf("describe indexes: %w", err)
		}
		if t, ok := byName[table]; ok {
			t.Indexes = append(t.Indexes, index)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe indexes: %w", err)
	}
	sort.Strings(order)
	out := make([]Table, len(order))
	for i, name := range order {
		out[i] = *byName[name]
		sort.Strings(out[i].Indexes)
	}
	return out, nil
}
