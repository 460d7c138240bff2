package record

// TypeInputError is the record loganom-parse writes for an input it could
// not read in full (a missing or unreadable file, a truncated archive):
// SrcFile names the input, SrcLine the lines read before the error (0
// when it could not be opened), Reason the error. It travels through the
// other stages untouched, so that loganom-report, piped or in-process,
// names what was not read instead of giving an all-clear.
const TypeInputError = "input_error"

// EmptyInput is the reason of the input_error record that loganom-parse
// writes for an input with no line at all, when no input had one (an
// empty log: a wrong path, a log just rotated). The report names it and
// gives no all-clear: nothing was seen.
const EmptyInput = "empty: no line at all"
