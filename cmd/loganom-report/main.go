// Command loganom-report groups logins per account and reports the
// accounts that look compromised.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/app"
	"github.com/loganom/loganom/cmd/internal/cli"
)

func main() { os.Exit(app.ReportMain(cli.OS())) }
