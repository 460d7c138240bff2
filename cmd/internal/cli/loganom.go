package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/loganom/loganom/pkg/enrich"
)

type loganomCLI struct {
	Cache struct {
		Path  string   `name:"cache" placeholder:"FILE" help:"The cache database (default: loganom/cache.db in the user's cache directory)."`
		Stats struct{} `cmd:"" default:"1" help:"Count the cached answers (the default)."`
		Prune struct{} `cmd:"" help:"Delete the answers past their lifetime."`
	} `cmd:"" help:"Show or prune loganom-enrich's lookup cache."`
}

const loganomDesc = `loganom finds mail accounts whose password was stolen, from the Postfix log.`

// Loganom runs the loganom command.
func Loganom(env Env) int {
	log := &Logger{Prog: "loganom", W: env.Stderr}
	var c loganomCLI
	ctx, code, done := parseCommand(env, log, &c, loganomDesc)
	if done {
		return code
	}
	switch ctx.Command() {
	case "cache stats", "cache prune":
		return cacheCmd(env, log, c.Cache.Path, ctx.Command() == "cache prune")
	}
	log.Errorf("unknown command %q", ctx.Command())
	return ExitUsage
}

func cacheCmd(env Env, log *Logger, path string, prune bool) int {
	if path == "" {
		p, err := enrich.DefaultCachePath()
		if err != nil {
			log.Errorf("%v", err)
			return ExitError
		}
		path = p
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		log.Errorf("no cache at %s", path)
		log.Hintf("loganom-enrich makes it; name another with --cache")
		return ExitError
	}
	c, err := enrich.OpenCache(path, 0)
	if err != nil {
		log.Errorf("%v", err)
		return ExitError
	}
	defer c.Close()
	if prune {
		n, err := c.Prune()
		if err != nil {
			log.Errorf("%v", err)
			return ExitError
		}
		fmt.Fprintf(env.Stdout, "pruned %d expired answers from %s\n", n, path)
		return ExitOK
	}
	s, err := c.Stats()
	if err != nil {
		log.Errorf("%v", err)
		return ExitError
	}
	fmt.Fprintf(env.Stdout, "cache:          %s (%.1f kB)\n", s.Path, float64(s.Bytes)/1024)
	fmt.Fprintf(env.Stdout, "reverse DNS:    %d answers (%d without a PTR, %d names that do not resolve back)\n", s.RDNS, s.NoPTR, s.Unconfirmed)
	fmt.Fprintf(env.Stdout, "ipinfo.io:      %d answers\n", s.Geo)
	fmt.Fprintf(env.Stdout, "expired:        %d (loganom cache prune deletes them)\n", s.Expired)
	return ExitOK
}
