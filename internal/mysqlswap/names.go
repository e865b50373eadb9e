package mysqlswap

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Base starts the names of all databases restores create.
const Base = "strata_restore_"

// Prefix starts the names of the databases restores of target create: a
// hash keeps them short and tells them apart from other databases'.
func Prefix(target string) string {
	sum := sha256.Sum256([]byte(target))
	return Base + hex.EncodeToString(sum[:6]) + "_"
}

// Names returns fresh names for a restore of target: the scratch database
// to load the dump into and the hold database the old tables move to.
// They share a random suffix, which pairs them.
func Names(target string) (scratch, hold string) {
	suffix := make([]byte, 8)
	rand.Read(suffix)
	s := hex.EncodeToString(suffix)
	p := Prefix(target)
	return p + "n" + s, p + "o" + s
}

// likeEscape escapes s for LIKE ... ESCAPE '|'.
func likeEscape(s string) string {
	return strings.NewReplacer("|", "||", "_", "|_", "%", "|%").Replace(s)
}

// quote quotes a MySQL identifier with backquotes.
func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
