//go:build !unix

package input

import "os"

// identity is unknown here: files are found again by their fingerprint
// alone.
func identity(os.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }
