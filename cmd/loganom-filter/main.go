// Command loganom-filter drops the records the whitelist covers.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/app"
	"github.com/loganom/loganom/cmd/internal/cli"
)

func main() { os.Exit(app.FilterMain(cli.OS())) }
