// Command loganom-enrich adds reverse DNS, country, city and AS to records.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/enrichcmd"
)

func main() { os.Exit(enrichcmd.Main(cli.OS())) }
