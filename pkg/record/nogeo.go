package record

// NoGeoSource is the entry of enrich_errors that loganom-enrich writes on
// a record from a public address when no geo source (a geo database, an
// ipinfo.io token) was configured: the address was not located because
// nothing could locate it. It starts with "geo: " as a failed geo lookup
// does; the report counts it apart, to say why and what to do.
const NoGeoSource = "geo: no source: no geo database configured, and ipinfo.io not in use"
