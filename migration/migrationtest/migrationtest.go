package migrationtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/strata-go/strata/dialect"
	"github.com/strata-go/strata/migration"
	"github.com/strata-go/strata/schema"
)

// Data proves a data migration: it seeds rows before the migration and
// checks them after its Up and after its Down. Every function is optional.
// They get the database the migrations run on.
type Data struct {
	// Seed runs once, before the migration's first Up, on the schema as
	// the migrations before it left it.
	Seed func(ctx context.Context, db dialect.Execer) error
	// CheckUp runs after each of the migration's two Ups: the rows Seed
	// wrote should be there, transformed as Up transforms them.
	CheckUp func(ctx context.Context, db dialect.Execer) error
	// CheckDown runs after the migration's Down: the rows Seed wrote
	// should be back as they were.
	CheckDown func(ctx context.Context, db dialect.Execer) error
}

// Option configures [Run].
type Option func(*config)

type config struct {
	manager []migration.Option
	compare []schema.CompareOption
	data    map[string]Data
}

// WithManagerOptions passes options to the [migration.Manager] Run builds,
// such as [migration.WithTable].
func WithManagerOptions(opts ...migration.Option) Option {
	return func(c *config) { c.manager = append(c.manager, opts...) }
}

// WithCompareOptions changes how schemas are compared, for example
// [schema.IgnoreColumnOrder] for a Down that cannot put a column back
// where it was.
func WithCompareOptions(opts ...schema.CompareOption) Option {
	return func(c *config) { c.compare = append(c.compare, opts...) }
}

// WithData runs data's hooks around the migration id. Run fails if no
// migration has that ID.
func WithData(id string, data Data) Option {
	return func(c *config) {
		if c.data == nil {
			c.data = map[string]Data{}
		}
		c.data[id] = data
	}
}

// Run proves that every migration of ms is reversible on db, which must
// have none of them applied. It walks the migrations in the order
// [migration.Manager.Up] applies them and, for each, through the public
// [migration.Manager] API (d must implement [schema.Inspector]):
//
//  1. describes the schema, and runs the migration's [Data] Seed, if any;
//  2. applies it with UpTo, which runs its Validate first, and describes
//     the schema again (CheckUp);
//  3. rolls it back with Down and checks that the schema is exactly what
//     it was before Up (CheckDown);
//  4. checks that its Validate passes again, in a dry run where the
//     dialect can make one;
//  5. applies it again and checks that the schema is exactly what the
//     first Up made (CheckUp).
//
// Before the walk it runs [migration.Manager.Validate], a dry run of every
// Up where DDL is transactional. It leaves db with every migration
// applied.
//
// A failure is reported with t.Errorf, naming the migration and the step,
// and for a schema that differs, the difference as [schema.Diff] prints
// it; Run then stops, since what follows would fail for the same reason.
func Run(t testing.TB, db *sql.DB, d dialect.Dialect, ms []migration.Migration, opts ...Option) {
	t.Helper()
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	r, err := newRunner(t.Context(), db, d, ms, cfg)
	if err != nil {
		t.Errorf("migrationtest: %v", err)
		return
	}
	if err := r.run(); err != nil {
		t.Errorf("migrationtest: %v", err)
	}
}

type runner struct {
	ctx  context.Context
	db   *sql.DB
	d    dialect.Dialect
	ms   []migration.Migration
	cfg  config
	m    *migration.Manager
	byID map[string]migration.Migration
}

func newRunner(ctx context.Context, db *sql.DB, d dialect.Dialect, ms []migration.Migration, cfg config) (*runner, error) {
	m, err := migration.NewManager(db, d, ms, cfg.manager...)
	if err != nil {
		return nil, err
	}
	r := &runner{ctx: ctx, db: db, d: d, ms: ms, cfg: cfg, m: m, byID: map[string]migration.Migration{}}
	for _, mg := range m.Migrations() {
		r.byID[mg.ID()] = mg
	}
	var unknown []string
	for id := range cfg.data {
		if r.byID[id] == nil {
			unknown = append(unknown, fmt.Sprintf("%q", id))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("option WithData names no migration: %s", strings.Join(unknown, ", "))
	}
	if _, ok := d.(schema.Inspector); !ok {
		return nil, fmt.Errorf("dialect %s cannot describe schemas: it does not implement schema.Inspector", d.Name())
	}
	h, err := m.History(ctx)
	if err != nil {
		return nil, err
	}
	if len(h) > 0 {
		return nil, fmt.Errorf("the database has %d migration(s) applied already (the newest %q); Run needs one where none is", len(h), h[len(h)-1].ID)
	}
	return r, nil
}

func (r *runner) run() error {
	if err := r.m.Validate(r.ctx); err != nil {
		return fmt.Errorf("dry run of every Up (Manager.Validate): %w", err)
	}
	for _, mg := range r.m.Migrations() {
		if err := r.check(mg.ID()); err != nil {
			return fmt.Errorf("migration %q: %w", mg.ID(), err)
		}
	}
	return nil
}

// check takes migration id through Up, Down and Up again.
func (r *runner) check(id string) error {
	data := r.cfg.data[id]
	before, err := r.m.Schema(r.ctx)
	if err != nil {
		return fmt.Errorf("describe the schema before Up: %w", err)
	}
	if err := hook(r.ctx, "seed data before Up", data.Seed, r.db); err != nil {
		return err
	}

	if err := r.apply("Up", func() ([]migration.Result, error) { return r.m.UpTo(r.ctx, id) }, id); err != nil {
		return err
	}
	afterUp, err := r.m.Schema(r.ctx)
	if err != nil {
		return fmt.Errorf("describe the schema after Up: %w", err)
	}
	if err := hook(r.ctx, "check data after Up", data.CheckUp, r.db); err != nil {
		return err
	}

	if err := r.apply("Down", func() ([]migration.Result, error) { return r.m.Down(r.ctx) }, id); err != nil {
		return err
	}
	afterDown, err := r.m.Schema(r.ctx)
	if err != nil {
		return fmt.Errorf("describe the schema after Down: %w", err)
	}
	if d := schema.Compare(before, afterDown, r.cfg.compare...); !d.Empty() {
		return fmt.Errorf("the schema after Down differs from the schema before Up (- before Up, + after Down):\n%s", d)
	}
	if err := hook(r.ctx, "check data after Down", data.CheckDown, r.db); err != nil {
		return err
	}
	if err := r.validate(id); err != nil {
		return fmt.Errorf("after Down, Validate fails where it should pass (Down did not restore its preconditions): %w", err)
	}

	if err := r.apply("Up again", func() ([]migration.Result, error) { return r.m.UpTo(r.ctx, id) }, id); err != nil {
		return err
	}
	again, err := r.m.Schema(r.ctx)
	if err != nil {
		return fmt.Errorf("describe the schema after Up after Down: %w", err)
	}
	if d := schema.Compare(afterUp, again, r.cfg.compare...); !d.Empty() {
		return fmt.Errorf("the schema after Up again differs from the schema after the first Up (- first Up, + second Up):\n%s", d)
	}
	return hook(r.ctx, "check data after Up after Down", data.CheckUp, r.db)
}

// apply runs one Up or Down and checks that it ran exactly migration id.
func (r *runner) apply(what string, f func() ([]migration.Result, error), id string) error {
	res, err := f()
	if err != nil {
		var me *migration.Error
		if errors.As(err, &me) && me.Step == migration.StepValidate {
			return fmt.Errorf("run %s: Validate failed where it should pass: %w", what, err)
		}
		return fmt.Errorf("run %s: %w", what, err)
	}
	var ids []string
	for _, x := range res {
		ids = append(ids, x.ID)
	}
	if !slices.Equal(ids, []string{id}) {
		return fmt.Errorf("run %s: it ran %q, want only %q", what, ids, id)
	}
	return nil
}

// validate runs the manager's Validate, a dry run, for id alone: a manager
// of id and its ancestors, which are applied, has id alone pending.
func (r *runner) validate(id string) error {
	want := map[string]bool{}
	var walk func(string)
	walk = func(id string) {
		if want[id] {
			return
		}
		want[id] = true
		for _, dep := range r.byID[id].Dependencies() {
			walk(dep)
		}
	}
	walk(id)
	var sub []migration.Migration
	for _, mg := range r.ms {
		if mg != nil && want[mg.ID()] {
			sub = append(sub, mg)
		}
	}
	m, err := migration.NewManager(r.db, r.d, sub, r.cfg.manager...)
	if err != nil {
		return err
	}
	return m.Validate(r.ctx)
}

func hook(ctx context.Context, what string, f func(context.Context, dialect.Execer) error, db *sql.DB) error {
	if f == nil {
		return nil
	}
	if err := f(ctx, db); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
