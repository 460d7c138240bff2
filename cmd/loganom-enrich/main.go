// Command loganom-enrich adds reverse DNS, country, city and AS to records.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/app"
	"github.com/loganom/loganom/cmd/internal/cli"
)

func main() { os.Exit(app.Enrich(cli.OS())) }
