package migration_test

import (
	"testing"
)

// TestBaselineMarksAndRecordsSchema: a baseline leaves a mark on the rows
// it writes, and records the live schema, so that Drift works at once and
// sees a later change by hand; migrations applied later are not marked.
func TestBaselineMarksAndRecordsSchema(t *testing.T) {
	db := driftSQLite(t)
	ms := usersMigrations("TEXT")
	// The database predates strata: its schema is what 0001 and 0003 do.
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '')`,
		`CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id))`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	m := mustManager(t, db, dialectFor(t), ms)
	if err := m.Baseline(t.Context(), "0003_posts"); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Drift(t.Context())
	if err != nil {
		t.Fatalf("Drift right after Baseline: %v", err)
	}
	if rep.Drifted() || rep.Migration != "0003_posts" {
		t.Fatalf("Drift right after Baseline: %s", rep)
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE by_hand (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if rep, err := m.Drift(t.Context()); err != nil || !rep.Drifted() {
		t.Fatalf("Drift after a change by hand: %v, %v; want drift", rep, err)
	}

	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	h, err := m.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"0001_users": true, "0003_posts": true, "0002_users_name_idx": false}
	if len(h) != len(want) {
		t.Fatalf("history: %+v", h)
	}
	for _, r := range h {
		if r.Baselined != want[r.ID] {
			t.Errorf("%s: Baselined = %v, want %v", r.ID, r.Baselined, want[r.ID])
		}
		if r.Duration < 0 {
			t.Errorf("%s: negative duration %s", r.ID, r.Duration)
		}
	}
	sts, err := m.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Baselined != want[s.ID] {
			t.Errorf("status of %s: Baselined = %v, want %v", s.ID, s.Baselined, want[s.ID])
		}
	}
}
