package migration

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Checksummer is an optional interface: a digest of the text a migration
// runs, such as the SQL of a file. The version table records it when the
// migration is applied, and [Manager.Status], [Manager.Validate] and
// [Manager.Up] report an applied migration whose checksum has changed
// since ([ErrChecksum]). An empty checksum is not recorded or compared.
type Checksummer interface {
	Checksum() string
}

// ErrChecksum: the text of an applied migration has changed since it was
// applied. Restore the text, or accept the new text with
// [Manager.AcceptChecksum] (CLI: repair ID --checksum).
var ErrChecksum = errors.New("migration: applied migration changed since it was applied")

// Checksum returns the checksum strata records for SQL text: the SHA-256 of
// the parts, each with CRLF line endings read as LF, separated by a zero
// byte, in hex.
func Checksum(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(strings.ReplaceAll(p, "\r\n", "\n")))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func checksum(m Migration) string {
	if c, ok := m.(Checksummer); ok {
		return c.Checksum()
	}
	return ""
}
