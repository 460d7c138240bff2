package record

// TypeInputError is the record loganom-parse writes for an input it could
// not read in full (a missing or unreadable file, a truncated archive):
// SrcFile names the input, SrcLine the lines read before the error (0
// when it could not be opened), Reason the error. It travels through the
// other stages untouched, so that loganom-report, piped or in-process,
// names what was not read instead of giving an all-clear.
const TypeInputError = "input_error"
