package main

import (
	"testing"

	"github.com/loganom/loganom/cmd/internal/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m) }

// One script per feature, in testdata/script.
func TestScripts(t *testing.T) { clitest.Run(t, "testdata/script") }
