package enrich

// Holding returns how many records the enricher holds, waiting for their
// lookups or for those of records before them: the last it was given (it
// lets them go in the order it got them), and no record before them
// (parse.Options.Reuse).
//
// The caller is at a pause (the parser, between chunks of the input): the
// cache reads gathered so far are sent then, rather than waiting for more
// (batchMax, batchWait), so that the records held for them can leave by
// the next pause and the parser reuse their memory.
func (e *Enricher) Holding() int {
	e.sendBatch()
	return len(e.queue) - e.head
}
