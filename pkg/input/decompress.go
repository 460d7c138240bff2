package input

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Kind is the compression format of an input, recognised by its magic
// bytes.
type Kind string

// The formats Decompress recognises.
const (
	Plain Kind = "plain"
	Gzip  Kind = "gzip"
	Bzip2 Kind = "bzip2"
	XZ    Kind = "xz"
	Zstd  Kind = "zstd"
)

// magics are the first bytes of each compressed format; anything else is
// Plain.
var magics = []struct {
	kind  Kind
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Bzip2, []byte("BZh")},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Detect says which format data, the first bytes of an input (six are
// enough), is in.
func Detect(head []byte) Kind {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.kind
		}
	}
	return Plain
}

// Decompress looks at the first bytes of r and returns a reader of its
// decompressed content (r itself, for plain text), the format it found, and a
// function that releases the decompressor. The file name is not consulted:
// rotated logs are named every which way.
func Decompress(r io.Reader) (io.Reader, Kind, func(), error) {
	head := make([]byte, 6)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, "", nil, err
	}
	head = head[:n]
	src := io.MultiReader(bytes.NewReader(head), r)
	kind := Detect(head)
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
