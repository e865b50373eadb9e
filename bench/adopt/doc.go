// Package adopt holds tests that migrate a database with the real goose and
// golang-migrate libraries, then adopt it with strata and migrate it
// further. They live in the bench module so that the library's go.mod never
// depends on either tool.
package adopt
