package enrich

// Holding returns how many records the enricher holds, waiting for their
// lookups or for those of records before them: once it is 0, it keeps no
// record it was given (parse.Options.Reuse).
func (e *Enricher) Holding() int { return len(e.queue) - e.head }
