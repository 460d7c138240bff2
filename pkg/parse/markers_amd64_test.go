package parse

import "testing"

// TestMarkersSSE2 runs the marker tests on the SSE2 code as well, which
// machines with AVX2 would not otherwise use.
func TestMarkersSSE2(t *testing.T) {
	if !useAVX2 {
		t.Skip("SSE2 is what TestMarkers ran")
	}
	useAVX2 = false
	defer func() { useAVX2 = true }()
	TestMarkers(t)
}
