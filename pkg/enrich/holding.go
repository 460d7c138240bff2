package enrich

// Holding returns how many records the enricher holds, waiting for their
// lookups or for those of records before them: the last it was given (it
// lets them go in the order it got them), and no record before them
// (parse.Options.Reuse).
//
// The addresses to ask the cache are still gathered up to batchMax, or
// batchWait records: one query for many costs far less than many for a
// few each, and the parser reuses the memory of every record before those
// held.
func (e *Enricher) Holding() int {
	return len(e.queue) - e.head
}
