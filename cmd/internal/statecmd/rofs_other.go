//go:build unix && !linux

package statecmd

// readOnlyFS is not told apart here: access(2)'s EROFS alone says it.
func readOnlyFS(string) bool { return false }
