// Command loganom-parse turns Postfix log lines into login-event records.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/parsecmd"
)

func main() { os.Exit(parsecmd.Main(cli.OS())) }
