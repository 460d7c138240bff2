//go:build !unix

package statecmd

// accessHint says nothing where access(2) is not there.
func accessHint(string) string { return "" }
