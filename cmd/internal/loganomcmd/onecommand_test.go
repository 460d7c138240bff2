package loganomcmd

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// Each command parsed with its own grammar (oneCommand) gives what the
// whole grammar gives: the same values, the same help, the same errors and
// exit codes.
func TestOneCommand(t *testing.T) {
	lines := [][]string{
		{"postfix-sasl", "-c", "x.ini", "-l", "a.log", "-l", "b.log", "--no-db", "--format", "json", "--rule", "original"},
		{"postfix-sasl", "--follow", "--resume", "--db", "postgres://h/db", "--metrics", "127.0.0.1:9310"},
		{"postfix-sasl"},
		{"quota-high", "-l", "x.log", "--format", "json"},
		{"cache"},
		{"cache", "prune", "--cache", "c.db"},
		{"history", "bob@example.com", "--db", "s.db"},
		{"alerts"},
		{"alerts", "ack", "bob@example.com"},
		{"db", "prune"},
		{"db", "migrate"},
		{"block", "bob@example.com", "--for", "2h"},
		{"unblock", "bob@example.com"},
		{"blocks", "--postmap"},
		{"serve", "-c", "x.ini"},
	}
	var names []string
	typ := reflect.TypeOf(loganomCLI{})
	for i := range typ.NumField() {
		name := typ.Field(i).Tag.Get("name")
		if name == "" {
			name = strings.ToLower(typ.Field(i).Name)
		}
		names = append(names, name)
		lines = append(lines, []string{name, "--help"}, []string{name, "--no-such-flag"}, []string{name, "extra", "args", "here"}, []string{name, "--version"})
	}
	lines = append(lines, []string{}, []string{"--help"}, []string{"no-such-command"})
	covered := map[string]bool{}
	for _, args := range lines {
		var full loganomCLI
		fullCtx, fullOut, fullErr, fullCode, fullDone := parseWith(&full, args)
		var one loganomCLI
		grammar, chosen := oneCommand(&one, args)
		if len(args) > 0 && args[0] != "--help" && args[0] != "no-such-command" {
			if grammar == any(&one) {
				t.Errorf("%q: parsed with the whole grammar", args)
			}
			covered[args[0]] = true
		}
		ctx, out, errs, code, done := parseWith(grammar, args)
		if !done {
			chosen()
		}
		if out != fullOut || errs != fullErr || code != fullCode || done != fullDone {
			t.Errorf("%q: one command's grammar gives\n%s%s(exit %d, done %v)\nthe whole grammar\n%s%s(exit %d, done %v)", args, out, errs, code, done, fullOut, fullErr, fullCode, fullDone)
			continue
		}
		if done {
			continue
		}
		if ctx.Command() != fullCtx.Command() {
			t.Errorf("%q: command %q, the whole grammar's %q", args, ctx.Command(), fullCtx.Command())
		}
		// the command's own values (the whole grammar also sets the
		// other commands' defaults, which nothing reads)
		i := slices.Index(names, args[0])
		got, want := reflect.ValueOf(one).Field(i).Interface(), reflect.ValueOf(full).Field(i).Interface()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: parsed\n%+v\nthe whole grammar\n%+v", args, got, want)
		}
	}
	for _, n := range names {
		if !covered[n] {
			t.Errorf("command %s not tried", n)
		}
	}
}

func parseWith(grammar any, args []string) (ctx interface{ Command() string }, stdout, stderr string, code int, done bool) {
	var o, e bytes.Buffer
	env := cli.Env{Args: args, Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }}
	log := &cli.Logger{Prog: "loganom", W: &e}
	c, code, done := cli.ParseCommand(env, log, grammar, loganomDesc)
	if c != nil {
		ctx = c
	}
	return ctx, o.String(), e.String(), code, done
}
