// Package enrich adds to each record what is known of its client address:
// the reverse DNS name, checked forward (rdns, rdns_verified), and country,
// city, location and autonomous system from local MaxMind-format databases
// or AS range files (country, city, lat, lon, accuracy_km, asn, org), and
// from ipinfo.io when a token is given.
//
// A database of one address family (an IPv4-only .mmdb beside an IPv6 one,
// as DB-IP's free city files come) is not asked about the other family.
//
// A lookup that fails marks its record (enrich_errors) and the run goes on.
// A server that stops answering costs seconds, not minutes: after
// GiveUpAfter (20) queries or requests in a row to it failed, with no
// answer from it in between, it is not asked again in the run; the
// Enricher says so once (Options.OnGiveUp) and each record it could not
// look up carries "rdns: skipped: DNS server HOST:PORT not answering" or
// "geo: ipinfo: skipped: ipinfo.io not answering".
package enrich
