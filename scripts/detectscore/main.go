// Command detectscore compares loganom's JSON reports with the truth that
// genlog -population wrote (-labels): for each report, the confusion table
// (accounts flagged and compromised, missed, flagged and innocent, rightly
// left alone), the recall, the false alarms per 1,000 accounts, and each
// false alarm and each miss with its behaviour.
//
//	detectscore -labels labels.tsv 'home x default=home-default.json' 'none x original=none-original.json'
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

type label struct {
	user, label, kind, behaviour string
}

type finding struct {
	User     string `json:"user"`
	Severity string `json:"severity"`
	Reasons  []struct {
		Detector string `json:"detector"`
		Severity string `json:"severity"`
		Text     string `json:"text"`
	} `json:"reasons"`
	Countries  []string `json:"countries"`
	IPs        []any    `json:"ips"`
	Incomplete bool     `json:"incomplete"`
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detectscore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	labels := fs.String("labels", "", "the labels file of genlog -population")
	wide := fs.Bool("v", false, "print each false alarm's and miss's whole behaviour")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: detectscore -labels FILE NAME=REPORT.json...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *labels == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "detectscore: error:", err)
		return 1
	}
	truth, order, err := readLabels(*labels)
	if err != nil {
		return fail(err)
	}
	type result struct {
		name           string
		tp, fn, fp, tn int
		fps, fns       []string
		found          map[string]finding
	}
	var results []result
	for _, arg := range fs.Args() {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			fs.Usage()
			return 2
		}
		found, err := readReport(path)
		if err != nil {
			return fail(err)
		}
		r := result{name: name, found: found}
		for u := range found {
			if _, ok := truth[u]; !ok {
				return fail(fmt.Errorf("%s: %s is not in the labels", path, u))
			}
		}
		for _, u := range order {
			_, flagged := found[u]
			bad := truth[u].label == "compromised"
			switch {
			case flagged && bad:
				r.tp++
			case !flagged && bad:
				r.fn++
				r.fns = append(r.fns, u)
			case flagged && !bad:
				r.fp++
				r.fps = append(r.fps, u)
			default:
				r.tn++
			}
		}
		results = append(results, r)
	}
	n := len(order)
	fmt.Fprintf(stdout, "%-24s %5s %5s %5s %5s %8s %14s\n", "config x rule", "TP", "FN", "FP", "TN", "recall", "FP/1000 accts")
	for _, r := range results {
		recall := 100.0
		if r.tp+r.fn > 0 {
			recall = 100 * float64(r.tp) / float64(r.tp+r.fn)
		}
		fmt.Fprintf(stdout, "%-24s %5d %5d %5d %5d %7.1f%% %14.1f\n", r.name, r.tp, r.fn, r.fp, r.tn, recall, 1000*float64(r.fp)/float64(n))
	}
	for _, r := range results {
		fmt.Fprintf(stdout, "\n-- %s: %d false alarms, %d misses\n", r.name, r.fp, r.fn)
		kinds := map[string]int{}
		for _, u := range r.fps {
			kinds[truth[u].kind]++
		}
		if len(kinds) > 0 {
			var ks []string
			for k, c := range kinds {
				ks = append(ks, fmt.Sprintf("%s %d", k, c))
			}
			slices.Sort(ks)
			fmt.Fprintf(stdout, "   false alarms by kind: %s\n", strings.Join(ks, ", "))
		}
		show := func(tag string, users []string) {
			for _, u := range users {
				l := truth[u]
				f, flagged := r.found[u]
				why := ""
				if flagged {
					why = "  [" + describe(f) + "]"
				}
				fmt.Fprintf(stdout, "   %s %s (%s)%s\n", tag, u, l.kind, why)
				b := l.behaviour
				if !*wide && len(b) > 220 {
					b = b[:220] + "…"
				}
				fmt.Fprintf(stdout, "        %s\n", b)
			}
		}
		show("FP", r.fps)
		show("FN", r.fns)
	}
	return 0
}

func describe(f finding) string {
	var parts []string
	if f.Severity != "" {
		parts = append(parts, f.Severity)
	}
	for _, r := range f.Reasons {
		parts = append(parts, r.Detector+": "+r.Text)
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d addresses, countries %s", len(f.IPs), strings.Join(f.Countries, " ")))
	}
	return strings.Join(parts, "; ")
}

func readLabels(path string) (map[string]label, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	m := map[string]label{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		c := strings.SplitN(t, "\t", 4)
		if len(c) != 4 || (c[1] != "innocent" && c[1] != "compromised") {
			return nil, nil, fmt.Errorf("%s:%d: want user, innocent|compromised, kind, behaviour (tab-separated)", path, line)
		}
		m[c[0]] = label{c[0], c[1], c[2], c[3]}
		order = append(order, c[0])
	}
	return m, order, sc.Err()
}

func readReport(path string) (map[string]finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]finding{}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var f finding
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if f.Incomplete {
			return nil, fmt.Errorf("%s: the report says it is incomplete", path)
		}
		if f.User != "" {
			out[f.User] = f
		}
	}
	return out, nil
}
