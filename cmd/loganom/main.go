// Command loganom finds mail accounts whose password was stolen.
package main

import (
	"os"

	"github.com/loganom/loganom/cmd/internal/app"
	"github.com/loganom/loganom/cmd/internal/cli"
)

func main() { os.Exit(app.Loganom(cli.OS())) }
