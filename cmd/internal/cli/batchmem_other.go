//go:build !linux

package cli

// hugeHeap does nothing: transparent huge pages are Linux's.
func hugeHeap(int) {}
