package parse

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Markers that every event line carries. Lines without any marker are never
// parsed: that is what keeps the parser near memory speed on a log that is
// mostly delivery traffic. Each is found by a search for a rare pair of its
// bytes (the anchor, at off), then compared in full.
var markers = [3]finder{
	{pat: []byte("sasl_username="), off: 4}, // "_u"
	{pat: []byte("SASL "), off: 3},          // "L "
	{pat: []byte("reject: "), off: 2},       // "je"
}

type finder struct {
	pat []byte
	off int
}

// find returns the index of the first match at or after from, or -1,
// searching for the first byte of the anchor.
func (f *finder) find(data []byte, from int) int {
	a := f.pat[f.off]
	for i := from + f.off; i < len(data); {
		k := bytes.IndexByte(data[i:], a)
		if k < 0 {
			return -1
		}
		p := i + k - f.off
		if p+len(f.pat) <= len(data) && bytes.Equal(data[p:p+len(f.pat)], f.pat) {
			return p
		}
		i += k + 1
	}
	return -1
}

// at returns the start of the marker whose anchor would be at i, if it is
// there.
func (f *finder) at(data []byte, i int) (int, bool) {
	p := i - f.off
	return p, p >= 0 && p+len(f.pat) <= len(data) && bytes.Equal(data[p:p+len(f.pat)], f.pat)
}

// markerScan finds markers in one chunk, in order.
type markerScan struct {
	found [len(markers)]int // the portable search's next match of each, plus 2
}

// next returns the index of a marker in the first line, at or after the
// line start pos, that holds one, or -1. Markers hold no newline, so the
// index falls in that line.
func (m *markerScan) next(data []byte, pos int) int {
	if haveSIMD {
		return nextPair(data, pos)
	}
	return m.portable(data, pos)
}

// portable searches each marker on its own, remembering where each was
// next found.
func (m *markerScan) portable(data []byte, pos int) int {
	best := -1
	for k := range markers {
		n := m.found[k] - 2 // -2: not searched yet; -1: no more
		if n != -1 && n < pos {
			n = markers[k].find(data, pos)
			m.found[k] = n + 2
		}
		if n >= 0 && (best < 0 || n < best) {
			best = n
		}
	}
	return best
}

// nextPair searches all the anchors at once, with SIMD instructions.
func nextPair(data []byte, pos int) int {
	for i := pos; i < len(data)-1; i++ {
		j := indexPairs(data[i:])
		if j < 0 {
			return -1
		}
		i += j
		for k := range markers {
			f := &markers[k]
			if data[i] == f.pat[f.off] && data[i+1] == f.pat[f.off+1] {
				if p, ok := f.at(data, i); ok && p >= pos {
					return p
				}
			}
		}
	}
	return -1
}

// pairs holds each marker's anchor pair, broadcast for SIMD registers: the
// first bytes of the three anchors, then their second bytes.
var pairs = func() (v [2 * len(markers)][32]byte) {
	for k, f := range markers {
		for i := range 32 {
			v[2*k][i] = f.pat[f.off]
			v[2*k+1][i] = f.pat[f.off+1]
		}
	}
	return v
}()

// indexPairsGeneric returns the first i such that b[i], b[i+1] is an
// anchor pair, or -1.
func indexPairsGeneric(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		for k := range markers {
			if b[i] == pairs[2*k][0] && b[i+1] == pairs[2*k+1][0] {
				return i
			}
		}
	}
	return -1
}

// lastNewline is bytes.LastIndexByte(b, '\n'), eight bytes at a time: the
// line start before a marker is a hundred bytes back or so, and the
// standard function goes a byte at a time.
func lastNewline(b []byte) int {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	i := len(b)
	for ; i >= 8; i -= 8 {
		x := binary.LittleEndian.Uint64(b[i-8:]) ^ 0x0a0a0a0a0a0a0a0a
		// The high bit of each byte of m is set where x is zero, exactly
		// (no carry crosses a byte).
		m := ^(((x & lo7) + lo7) | x | lo7)
		if m != 0 {
			return i - 8 + (63-bits.LeadingZeros64(m))/8
		}
	}
	for i > 0 {
		i--
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}
