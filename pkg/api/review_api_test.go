package api

import "testing"

// TestReviewParseForTiny: a length above zero that rounds to no time at
// all is refused, not a block that has ended as it is made (the API
// answered 201, and the policy service never enforced it).
func TestReviewParseForTiny(t *testing.T) {
	for _, s := range []string{"1e-10", "1e-10d", "0.0000000001", "1e-300d"} {
		d, err := ParseFor(s)
		if err == nil && d <= 0 {
			t.Errorf("ParseFor(%q) = %v, nil: want an error or a time above zero", s, d)
		}
	}
}
