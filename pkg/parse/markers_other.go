//go:build !amd64

package parse

const haveSIMD = false

func indexPairs(b []byte) int { return indexPairsGeneric(b) }
