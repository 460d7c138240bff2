// Command loganom-report groups logins per account and reports the
// accounts that look compromised.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/reportcmd"
)

func main() { os.Exit(reportcmd.Main(cli.OS())) }
