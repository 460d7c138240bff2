package input

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

const logs = "../../testdata/logs"

func compress(t *testing.T, plain []byte, kind Kind) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch kind {
	case Gzip:
		w = gzip.NewWriter(&buf)
	case XZ:
		w, err = xz.NewWriter(&buf)
	case Zstd:
		w, err = zstd.NewWriter(&buf)
	default:
		t.Fatalf("no writer for %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every format is recognised by its content and read back whole; anything
// else, however short, is plain text passed through unchanged.
func TestDecompress(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	bz2, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	gz := compress(t, plain, Gzip)
	tests := []struct {
		name string
		in   []byte
		kind Kind
		want []byte
	}{
		{"plain", plain, Plain, plain},
		{"gzip", gz, Gzip, plain},
		{"two gzip members, as cat a.gz b.gz makes", append(append([]byte{}, gz...), gz...), Gzip, append(append([]byte{}, plain...), plain...)},
		{"bzip2", bz2, Bzip2, plain},
		{"xz", compress(t, plain, XZ), XZ, plain},
		{"zstd", compress(t, plain, Zstd), Zstd, plain},
		{"empty", nil, Plain, nil},
		{"shorter than any magic", []byte("ab"), Plain, []byte("ab")},
		{"one byte of the gzip magic", []byte{0x1f}, Plain, []byte{0x1f}},
		{"JSON", []byte(`{"type":"login"}` + "\n"), Plain, []byte(`{"type":"login"}` + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, kind, release, err := Decompress(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if kind != tt.kind {
				t.Errorf("kind %q, want %q", kind, tt.kind)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("read %d bytes, want %d: content differs", len(got), len(tt.want))
			}
		})
	}
}

// A bad header is an error at once, naming the format; a truncated body
// (a log being rotated) is an error when the reading reaches the cut,
// after what came before it.
func TestDecompressBroken(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	gz := compress(t, plain, Gzip)
	xzData := compress(t, plain, XZ)
	tests := []struct {
		name    string
		in      []byte
		openErr string // error from Decompress itself
		readErr error  // else from reading
		some    bool   // after some of the content (xz checks a block whole)
	}{
		{"gzip magic, bad header", []byte{0x1f, 0x8b, 0xff, 0, 0, 0, 0, 0, 0, 0}, "gzip: ", nil, false},
		{"gzip magic alone", []byte{0x1f, 0x8b}, "gzip: ", nil, false},
		{"xz magic, bad header", append([]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), "xz: ", nil, false},
		{"truncated gzip", gz[:len(gz)*2/3], "", io.ErrUnexpectedEOF, true},
		{"truncated xz", xzData[:len(xzData)*2/3], "", io.ErrUnexpectedEOF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, release, err := Decompress(bytes.NewReader(tt.in))
			if tt.openErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.openErr) {
					t.Fatalf("err %v, want one starting %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			got, err := io.ReadAll(r)
			if !errors.Is(err, tt.readErr) {
				t.Errorf("read error %v, want %v", err, tt.readErr)
			}
			if tt.some && len(got) == 0 || !bytes.HasPrefix(plain, got) {
				t.Errorf("read %d bytes before the cut, not a prefix of the content", len(got))
			}
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// An error reading the first bytes is returned as it is.
func TestDecompressReadError(t *testing.T) {
	boom := errors.New("boom")
	if _, _, _, err := Decompress(failingReader{boom}); err != boom {
		t.Errorf("err %v, want %v", err, boom)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		head []byte
		want Kind
	}{
		{[]byte{0x1f, 0x8b, 8, 0, 0, 0}, Gzip},
		{[]byte("BZh91AY"), Bzip2},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, XZ},
		{[]byte{0xfd, '7', 'z', 'X', 'Z'}, Plain}, // cut short
		{[]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, Zstd},
		{[]byte("Jan  1 "), Plain},
		{[]byte("BZ"), Plain},
		{nil, Plain},
	}
	for _, tt := range tests {
		if got := Detect(tt.head); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}

// Open tells a regular file from stdin and other streams, and names what
// it cannot open.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "maillog")
	if err := os.WriteFile(file, []byte("line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(file, mtime, mtime); err != nil {
		t.Fatal(err)
	}

	in, err := Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != file || in.File == nil || in.Size != 5 || !in.ModTime.Equal(mtime) {
		t.Errorf("regular file: %+v", in)
	}
	if b, err := io.ReadAll(in.R); err != nil || string(b) != "line\n" {
		t.Errorf("read %q, %v", b, err)
	}
	if err := in.Close(); err != nil {
		t.Error(err)
	}
	if _, err := in.File.Read(make([]byte, 1)); err == nil {
		t.Error("file still open after Close")
	}

	stdin := strings.NewReader("from stdin\n")
	in, err = Open("-", stdin)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "stdin" || in.R != io.Reader(stdin) || in.File != nil || in.Close() != nil {
		t.Errorf("stdin: %+v", in)
	}

	if _, err := os.Stat(os.DevNull); err == nil {
		in, err := Open(os.DevNull, nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.File != nil || in.R == nil {
			t.Errorf("%s is not a regular file: %+v", os.DevNull, in)
		}
		in.Close()
	}

	for _, name := range []string{filepath.Join(dir, "missing"), dir} {
		in, err := Open(name, nil)
		if err == nil || in != nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Open(%q) = %v, %v; want an error naming it", name, in, err)
		}
	}
}
