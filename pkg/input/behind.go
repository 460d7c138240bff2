package input

import (
	"encoding/binary"
	"os"
)

// Behind returns how many bytes of the log at path are still to be read
// after the mark m: the rest of the file m was taken in, then the files
// rotated from the log after it (logrotate's order, as Plan reads them),
// then the file now at path, whole. A compressed file counts as stored:
// the rest of one being read in proportion to what gzip says its content
// is (its trailer's size), the whole file for the other kinds. ok is
// false when the file m was taken in is at path no more nor among the
// files rotated from it (deleted since), or the system does not identify
// files: how far behind is then not known.
//
// The daemon's loganom_lag_bytes: during a first start's catch-up over
// the weeks on disk, and after a rotation, the mark is in a rotated file.
func Behind(path string, m Mark) (n int64, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	dev, ino, hasID := identity(fi)
	if !hasID || m.Dev == 0 && m.Ino == 0 {
		// nothing to tell the files apart by: the mark is taken to be
		// in the file at path
		return max(fi.Size()-m.Offset, 0), true
	}
	if dev == m.Dev && ino == m.Ino {
		return max(fi.Size()-m.Offset, 0), true
	}
	cur := &Piece{Dev: dev, Ino: ino, hasID: true}
	sibs := siblings(path, cur)
	at := -1
	for i, s := range sibs {
		if s.hasID && s.dev == m.Dev && s.ino == m.Ino {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, false
	}
	n = restOf(sibs[at].name, sibs[at].size, m.Offset)
	for _, s := range sibs[at+1:] {
		n += s.size
	}
	return n + fi.Size(), true
}

// restOf is the stored bytes of the file name (size bytes as stored) not
// yet read when offset bytes of its content were.
func restOf(name string, size, offset int64) int64 {
	f, err := os.Open(name)
	if err != nil {
		return size
	}
	defer f.Close()
	var magic [6]byte
	k, _ := f.ReadAt(magic[:], 0)
	switch Detect(magic[:k]) {
	case Plain:
		return max(size-offset, 0)
	case Gzip:
		// ISIZE: the content's length modulo 2³², in the last 4 bytes
		var tail [4]byte
		if size < 18 || offset <= 0 {
			return size
		}
		if _, err := f.ReadAt(tail[:], size-4); err != nil {
			return size
		}
		content := int64(binary.LittleEndian.Uint32(tail[:]))
		if offset >= content {
			// read to its end (or more than 4 GiB of content, the
			// trailer's size wrapped: taken for read)
			return 0
		}
		return int64(float64(size) * (1 - float64(offset)/float64(content)))
	}
	return size
}
