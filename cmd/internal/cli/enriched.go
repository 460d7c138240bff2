package cli

import (
	"github.com/loganom/loganom/pkg/record"
)

// EnrichedCheck passes records through and counts those with an address
// that carry nothing loganom-enrich adds: records piped straight from
// loganom-parse, for which the country, AS and reverse-name rules can
// never match.
type EnrichedCheck struct {
	withIP, bare int
}

func (c *EnrichedCheck) Process(r *record.Record, emit record.Emit) error {
	if r.IP != "" {
		c.withIP++
		if r.Country == "" && r.ASN == 0 && r.Org == "" && r.RDNS == "" && r.RDNSVerified == nil && !r.HasLoc && len(r.EnrichErrors) == 0 {
			c.bare++
		}
	}
	return emit(r)
}

func (c *EnrichedCheck) Flush(record.Emit) error { return nil }

// Warn says so when no record carried enrichment.
func (c *EnrichedCheck) Warn(log *Logger, what string) {
	if c.withIP > 0 && c.bare == c.withIP {
		log.Warnf("none of the %d records carries what loganom-enrich adds (country, AS, reverse name): %s", c.withIP, what)
		log.Hintf("put loganom-enrich in front: loganom-parse LOG | loganom-enrich | %s", log.Prog)
	}
}
