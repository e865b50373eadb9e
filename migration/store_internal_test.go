package migration

import (
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/dialect/mysql"
	"github.com/strata-go/strata/dialect/postgres"
)

// TestChecksumType: the checksum column added to an old version table is
// TEXT unless the dialect says a TEXT column cannot have a default.
func TestChecksumType(t *testing.T) {
	tests := []struct {
		name string
		d    dialect.Dialect
		want string
	}{
		{"postgres", postgres.New(), "TEXT"},
		{"mysql", mysql.New(), "VARCHAR(64)"},
		{"custom dialect without TextTyper", struct{ dialect.Dialect }{mysql.New()}, "TEXT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checksumType(tt.d); got != tt.want {
				t.Errorf("checksumType = %q, want %q", got, tt.want)
			}
		})
	}
}
