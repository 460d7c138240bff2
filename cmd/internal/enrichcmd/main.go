// Package enrichcmd is loganom-enrich, and the enrich stage (EnrichFlags,
// Stage) that the wrapper chains too.
package enrichcmd

import (
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
)

type enrichCLI struct {
	Config string `short:"c" placeholder:"FILE" help:"INI configuration: [ENRICH] geoip, asn_csv, dns, rdns, cache, workers, timeout, ttl_rdns, ipinfo, ipinfo_url, ttl_geo, confirm_all; [GENERAL] pattern_ip (the names to check forward); flags override it."`
	EnrichFlags
	Stats bool     `help:"Print counts of records, addresses, cache hits and lookups on stderr at the end."`
	Debug bool     `short:"d" help:"Print what was found for each address on stderr (also LOGLEVEL=DEBUG)."`
	Files []string `arg:"" optional:"" name:"file" help:"Records from loganom-parse (NDJSON, compressed or not); - or none reads stdin."`
}

const enrichDesc = `Add to each record what is known of its client address: the reverse DNS name,
checked forward (rdns, rdns_verified), and country, city, location and
autonomous system from local databases (country, city, lat, lon, accuracy_km,
asn, org). A lookup that fails leaves enrich_errors on the record; the run
goes on. Records keep their order and every field they came with, and each
leaves as soon as its lookups are done.

With a config, a name is checked forward only when a [GENERAL] pattern_ip
entry could match it (the whitelist trusts no other name); the others carry
rdns without rdns_verified. --confirm-all checks them all.`

// Main runs loganom-enrich.
func Main(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom-enrich", W: env.Stderr}
	var c enrichCLI
	cfg, code, done := config.Start(env, log, &c, enrichDesc, &c.Debug, &c.Config)
	if done {
		return code
	}
	e, err := c.EnrichFlags.Build(cfg, env, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	code = cli.RunRecords(env, log, c.Files, e)
	e.Report(c.Stats)
	if err := e.Close(); err != nil {
		log.Errorf("%v", err)
		code = cli.ExitError
	}
	return code
}
