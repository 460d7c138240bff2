package parse

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// markerText makes text rich in anchors, whole markers and near misses, at
// every alignment.
func markerText(r *rand.Rand, n int) []byte {
	pieces := []string{"sasl_username=", "SASL ", "reject: ", "_u", "L ", "je", "_", "L", "j", "u", "e", " ",
		"sasl_usernam", "SAS", "\n", "TLS_AES_256_GCM_SHA384", "rejected", "x", "abc"}
	var b []byte
	for len(b) < n {
		if r.IntN(3) == 0 {
			b = append(b, byte(r.IntN(256)))
			continue
		}
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return b
}

// checkMarkers compares the SIMD search with the portable one at every
// start position.
func checkMarkers(t *testing.T, data []byte) {
	t.Helper()
	if g, w := indexPairs(data), indexPairsGeneric(data); g != w {
		t.Fatalf("indexPairs(%q) = %d, want %d", data, g, w)
	}
	for i := 0; i <= len(data); i++ {
		if g, w := lastNewline(data[:i]), bytes.LastIndexByte(data[:i], '\n'); g != w {
			t.Fatalf("lastNewline(%q) = %d, want %d", data[:i], g, w)
		}
	}
	var fast, slow markerScan
	for pos := 0; pos <= len(data); pos++ {
		g, w := fast.next(data, pos), slow.portable(data, pos)
		if g != w {
			t.Fatalf("next(%q, %d) = %d, want %d", data, pos, g, w)
		}
	}
}

func TestMarkers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		checkMarkers(t, markerText(r, r.IntN(200)))
	}
	for _, s := range []string{"", "_", "_u", "x_u", "sasl_username=", "reject: ", "SASL "} {
		checkMarkers(t, []byte(s))
	}
}

func FuzzMarkers(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(markerText(r, r.IntN(300)))
	}
	f.Fuzz(checkMarkers)
}

func TestLastIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		s := markerText(r, r.IntN(60))
		for _, sep := range []string{"; from=<", " helo=<", "je", "_", "sasl_username="} {
			if g, w := lastIndex(s, sep), bytes.LastIndex(s, []byte(sep)); g != w {
				t.Fatalf("lastIndex(%q, %q) = %d, want %d", s, sep, g, w)
			}
		}
	}
}
