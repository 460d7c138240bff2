//go:build !unix

package api

import "io/fs"

func inode(fs.FileInfo) uint64 { return 0 }

func owner(fs.FileInfo) (uint32, bool) { return 0, false }
