// Command loganom-filter drops the records the whitelist covers.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/filtercmd"
)

func main() { os.Exit(filtercmd.Main(cli.OS())) }
