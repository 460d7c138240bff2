// Command loganom-parse turns Postfix log lines into login-event records.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
)

func main() { os.Exit(cli.Parse(cli.OS())) }
