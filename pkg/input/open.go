package input

import (
	"fmt"
	"io"
	"os"
	"time"
)

// An Input is an opened file, or stdin.
type Input struct {
	// Name names the input in messages: the file's name, or "stdin".
	Name string
	// R reads the input as it is stored, compressed or not.
	R io.Reader
	// File is set when the input is a regular file, which can be read at
	// any offset (pread) by several readers at once; Size and ModTime are
	// then its size and modification time. Stdin is never taken as a
	// regular file, even when redirected from one.
	File    *os.File
	Size    int64
	ModTime time.Time

	f *os.File // to close: every opened file, regular or not
}

// Open opens the file name, or stdin for "-" (nil: os.Stdin). A directory
// is an error naming it; so is a file that cannot be opened or examined
// (the *os.PathError names it).
func Open(name string, stdin io.Reader) (*Input, error) {
	if name == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		return &Input{Name: "stdin", R: stdin}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", name)
	}
	in := &Input{Name: name, R: f, f: f}
	if fi.Mode().IsRegular() {
		in.File, in.Size, in.ModTime = f, fi.Size(), fi.ModTime()
	}
	return in, nil
}

// Close closes the file; stdin is left open.
func (in *Input) Close() error {
	if in.f == nil {
		return nil
	}
	return in.f.Close()
}
