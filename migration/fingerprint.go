package migration

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
)

// fingerprint digests a set of migrations independently of order: the
// count and the XOR of the SHA-256 hashes of their keys. A migration's key
// is its ID, followed by a zero byte and its checksum if it has one, so
// that an edited SQL migration changes the digest while a set of Go
// migrations digests as it did before checksums existed. Adding and
// removing a migration are O(1), so the version table can carry the digest
// of the applied set in its newest row and the start-up check reads one
// row, whatever the number of migrations.
type fingerprint struct {
	n   int
	sum [sha256.Size]byte
}

func (f *fingerprint) toggle(id, sum string) {
	// The key is built in a buffer on the stack: NewManager hashes every
	// known migration, and a process start should not allocate for each.
	var buf [128]byte
	key := append(buf[:0], id...)
	if sum != "" {
		key = append(append(key, 0), sum...)
	}
	h := sha256.Sum256(key)
	subtle.XORBytes(f.sum[:], f.sum[:], h[:])
}

// add and remove take the migration's ID and its checksum: the one of its
// text for a known migration, the one recorded for an applied one.
func (f *fingerprint) add(id, sum string)    { f.toggle(id, sum); f.n++ }
func (f *fingerprint) remove(id, sum string) { f.toggle(id, sum); f.n-- }

func (f fingerprint) String() string {
	return strconv.Itoa(f.n) + ":" + hex.EncodeToString(f.sum[:])
}
