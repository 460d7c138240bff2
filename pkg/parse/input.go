package parse

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression formats, recognised by their magic bytes.
const (
	Plain = "plain"
	Gzip  = "gzip"
	Bzip2 = "bzip2"
	XZ    = "xz"
	Zstd  = "zstd"
)

var magics = []struct {
	kind  string
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Bzip2, []byte("BZh")},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Decompress looks at the first bytes of r and returns a reader of its
// decompressed content (r itself, for plain text), the format it found, and a
// function that releases the decompressor. The file name is not consulted:
// rotated logs are named every which way.
func Decompress(r io.Reader) (io.Reader, string, func(), error) {
	head := make([]byte, 6)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, "", nil, err
	}
	head = head[:n]
	src := io.MultiReader(bytes.NewReader(head), r)
	kind := Plain
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			kind = m.kind
			break
		}
	}
	nop := func() {}
	switch kind {
	case Gzip:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, kind, func() { zr.Close() }, nil
	case Bzip2:
		return bzip2.NewReader(src), kind, nop, nil
	case XZ:
		xr, err := xz.NewReader(src)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("xz: %w", err)
		}
		return xr, kind, nop, nil
	case Zstd:
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, kind, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, kind, zr.Close, nil
	}
	return src, kind, nop, nil
}
