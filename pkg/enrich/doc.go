// Package enrich adds to each record what is known of its client address:
// the reverse DNS name, checked forward (rdns, rdns_verified), and country,
// city, location and autonomous system from local MaxMind-format databases
// or AS range files (country, city, lat, lon, accuracy_km, asn, org).
package enrich
