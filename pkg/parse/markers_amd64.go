package parse

import "golang.org/x/sys/cpu"

// SSE2 is part of every amd64 processor; AVX2 doubles the width.
const haveSIMD = true

var useAVX2 = cpu.X86.HasAVX2

// indexPairs returns the first i such that b[i], b[i+1] is an anchor pair,
// or -1.
func indexPairs(b []byte) int {
	var n, i int
	if useAVX2 {
		n = (len(b) - 1) &^ 31 // the assembly checks 32 positions at a time
		if n > 0 {
			i = indexPairsAVX2(b, &pairs)
		}
	} else {
		n = (len(b) - 1) &^ 15
		if n > 0 {
			i = indexPairsSSE2(b, &pairs)
		}
	}
	if n <= 0 {
		return indexPairsGeneric(b)
	}
	if i >= 0 {
		return i
	}
	if j := indexPairsGeneric(b[n:]); j >= 0 {
		return n + j
	}
	return -1
}

// indexPairsSSE2 and indexPairsAVX2 check the positions i of b, 16 or 32 at
// a time, while b[i+1] of the last of them is within b. They return the
// first with a pair, or -1.
//
//go:noescape
func indexPairsSSE2(b []byte, pairs *[2 * len(markers)][32]byte) int

//go:noescape
func indexPairsAVX2(b []byte, pairs *[2 * len(markers)][32]byte) int
