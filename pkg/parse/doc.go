// Package parse turns Postfix log lines into login-event records
// (record.Record): SASL logins, SASL authentication failures, and the
// rejects of smtpd and postscreen.
//
// # Lines
//
// A LineParser parses one line into one record. It recognises the line
// format from the first bytes (header.go): classic BSD syslog, which
// Postfix's own maillog_file writes too, with or without a "<PRI>"
// prefix; RFC 3339 timestamps (rsyslog's high-precision format); RFC 5424;
// and journald's JSON export (journalctl -o json), where MESSAGE may be an
// array of bytes. Classic syslog has no year: each date gets the latest
// year that does not put it more than a day after LineParser.Ref, the end
// of the log.
//
// The program decides which messages are events: smtpd logs all three
// kinds, postscreen only rejects, and another daemon named in full
// ("postfix/cleanup") none. A program without a '/' ("postfix",
// "postfix-in", as rsyslog's RFC 5424 templates cut "postfix/smtpd"), or
// none, may be any daemon, and the message alone tells. Lines that look like events but
// do not parse are Malformed, with a reason; Parse never panics.
//
// A record's strings are pieces of one string made per record, valid
// UTF-8 (a byte that is not becomes U+FFFD) as a stage behind a pipe would
// decode them. A borrowing parser, whose records are encoded at once,
// leaves its strings in the line and their bytes to the encoder, which
// writes the same. An event line longer than
// MaxEventLine is malformed: its record, every byte escaped, stays well
// under record.MaxLine, so that the next stage can read it.
//
// # Inputs
//
// A Source reads files (or stdin, named "-"), compressed or not, in the
// order given, and emits their records in input order. Package input
// opens each (input.Open) and decompresses it (input.Decompress: gzip,
// bzip2, xz, zstd, recognised by content). Each input then goes through a
// pipeline of three parts (source.go): a producer cuts it into chunks,
// workers (one per core) parse the chunks in parallel, and a merger takes
// their results in input order. For a plain regular file the producer
// (planChunks) only plans 256 KiB byte ranges, which the workers read
// themselves with pread: a line belongs to the range it starts in, and the
// worker reads past the range's end to finish it. A stream (stdin, a pipe,
// a decompressor) is read by the producer (readChunks) into 1 MiB chunks
// of whole lines. Lines of MaxLine bytes or more are skipped and counted.
//
// Most lines of a mail log are not events, and a worker (parseChunk) never
// parses them: it searches the chunk for an anchor pair of each marker that every
// event line carries ("_u" of "sasl_username=", "L " of "SASL ", "je" of
// "reject: "), 32 bytes at a time (AVX2, or SSE2, in markers_amd64.s; a
// portable search elsewhere), compares the whole marker, and parses only
// the line around it. That keeps the parser near the speed of grep. A
// journald JSON input (judged from its first byte that is not white
// space) has every line parsed. In each chunk without an event, one search
// for "postfix" finds the first line from Postfix, for Stats.MailLines: a
// log with none does not look like a mail log.
//
// Line numbers are counted per chunk and made absolute by the merger
// (pipeline.merge), which takes the chunks' results in input order. Run
// emits records, for stages in the same process; RunNDJSON, for
// loganom-parse, which has no stage after the parser, has the workers
// encode their records themselves (record.Encoder) and the merger only
// splice in the line numbers and write bytes. Both write the same bytes,
// which the tests check. An error from downstream (emit or write) stops
// the Source and is returned as it is; an input that cannot be read is
// reported and passed on as an input_error record, and the next is read.
//
// # Tests
//
// Table tests per line variant (line_test.go), golden files on real logs
// (../../testdata; go test -run Golden -update rewrites them), and fuzz
// targets: FuzzParseLine (any bytes; records that survive the pipe
// unchanged), FuzzSource (the chunked parallel reading against plain
// reading line by line, at chunk sizes that put lines across chunk ends)
// and FuzzMarkers (the SIMD search against the portable one).
package parse
