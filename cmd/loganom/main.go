// Command loganom finds mail accounts whose password was stolen.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
)

func main() { os.Exit(loganomcmd.Main(cli.OS())) }
