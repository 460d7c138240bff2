package cli

import "testing"

func TestWantHugeHeap(t *testing.T) {
	for _, c := range []struct {
		thp, overcommit string
		want            bool
	}{
		{"always [madvise] never\n", "0\n", true},
		{"always [madvise] never\n", "1\n", true},
		{"always [madvise] never\n", "2\n", false}, // strict: the region counts
		{"always [madvise] never\n", "", true},
		{"[always] madvise never\n", "0\n", false},
		{"always madvise [never]\n", "0\n", false},
		{"", "0\n", false}, // no THP
	} {
		if got := wantHugeHeap([]byte(c.thp), []byte(c.overcommit)); got != c.want {
			t.Errorf("thp %q, overcommit %q: %v, want %v", c.thp, c.overcommit, got, c.want)
		}
	}
}
