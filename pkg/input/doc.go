// Package input opens the inputs of loganom's stages, log files and NDJSON
// files alike, and decompresses them: gzip (several members, as `cat a.gz
// b.gz` makes, are read as one), bzip2, xz and zstd are recognised by their
// first bytes, never by the file's name, since rotated logs are named every
// which way.
//
// Open opens a file, or stdin for the name "-", and tells a regular file
// (which a reader may cut into byte ranges and read in parallel, and whose
// modification time dates the end of the log) from a stream (stdin, a
// pipe, a device). Decompress then gives the reader of the content.
//
// Plan resumes a log where the last run left it (a Mark: the file's
// identity, the fingerprint of its first bytes, the offset read): it
// returns the files to read, from which offsets, across logrotate's
// rotations (rename and create, copytruncate, compress, delaycompress,
// dateext).
//
// It imports only the standard library and the compression libraries.
package input
