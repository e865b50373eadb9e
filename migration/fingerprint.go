package migration

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
)

// fingerprint digests a set of migration IDs independently of order: the
// count and the XOR of the IDs' SHA-256 hashes. Adding and removing an ID
// are O(1), so the version table can carry the digest of the applied set in
// its newest row and the start-up check reads one row, whatever the number
// of migrations.
type fingerprint struct {
	n   int
	sum [sha256.Size]byte
}

func (f *fingerprint) toggle(id string) {
	h := sha256.Sum256([]byte(id))
	subtle.XORBytes(f.sum[:], f.sum[:], h[:])
}

func (f *fingerprint) add(id string)    { f.toggle(id); f.n++ }
func (f *fingerprint) remove(id string) { f.toggle(id); f.n-- }

func (f fingerprint) String() string {
	return strconv.Itoa(f.n) + ":" + hex.EncodeToString(f.sum[:])
}
