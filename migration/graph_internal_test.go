package migration

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestFingerprintValue pins the text form of a fingerprint: version tables
// store it, so a change would make every database look out of date.
func TestFingerprintValue(t *testing.T) {
	var fp fingerprint
	for _, id := range []string{"0001_init", "0002_users", "0003_orders"} {
		fp.add(id, "")
	}
	// The value version tables held before checksums were part of it:
	// migrations without a checksum must keep it.
	const want = "3:d664184cd3b70b19df9c77a2bda4780b490398e2c148857c1e1c87c730799d17"
	if got := fp.String(); got != want {
		t.Errorf("fingerprint = %s, want %s", got, want)
	}
	fp.remove("0002_users", "")
	fp.add("0002_users", "")
	if got := fp.String(); got != want {
		t.Errorf("after remove and add, fingerprint = %s, want %s", got, want)
	}

	// A checksum changes the digest, and each checksum its own.
	sum1, sum2 := Checksum("CREATE TABLE users (id INT)"), Checksum("CREATE TABLE users (id BIGINT)")
	fp.remove("0002_users", "")
	fp.add("0002_users", sum1)
	with1 := fp.String()
	if with1 == want {
		t.Errorf("a checksum did not change the fingerprint %s", with1)
	}
	fp.remove("0002_users", sum1)
	fp.add("0002_users", sum2)
	if got := fp.String(); got == with1 || got == want {
		t.Errorf("another checksum gave fingerprint %s (no checksum %s, first %s)", got, want, with1)
	}
	// The key is the ID, a zero byte and the checksum: neither an ID
	// that happens to end like a checksum nor a shifted boundary collides.
	var a, b fingerprint
	a.add("0002_users", sum1)
	b.add("0002_users\x00"+sum1, "")
	if a != b {
		t.Errorf("key of (id, sum) = %s, want the hash of id NUL sum %s", a, b)
	}
	var c fingerprint
	c.add("0002_users", "")
	if a == c {
		t.Errorf("a checksum did not change a one-migration fingerprint")
	}
}

// TestGraphFingerprint checks that the graph's fingerprint is that of its
// IDs, whatever order the migrations come in.
func TestGraphFingerprint(t *testing.T) {
	noop := func(context.Context, *Tx) error { return nil }
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 50 {
		ms := make([]Migration, n)
		for i := range ms {
			var deps []string
			if i > 0 {
				deps = []string{"m" + strconv.Itoa(r.IntN(i))}
			}
			ms[i] = &Func{Name: "m" + strconv.Itoa(i), Requires: deps, UpFn: noop, DownFn: noop}
		}
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		g, err := newGraph(ms)
		if err != nil {
			t.Fatal(err)
		}
		var want fingerprint
		for i := range n {
			want.add("m"+strconv.Itoa(i), "")
		}
		if g.fp != want {
			t.Fatalf("%d migrations: graph fingerprint %s, want %s", n, g.fp, want)
		}
	}
}
