package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const labels = "# user\tlabel\tkind\tbehaviour\n" +
	"a@example.com\tcompromised\tbotnet\tattack=botnet(...) | home=DE/Munich\n" +
	"b@example.com\tcompromised\tfar-single\tattack=far-single(...) | home=DE/Berlin\n" +
	"c@example.com\tinnocent\ttraveller-roaming\thome=DE/Munich trip=GB/London\n" +
	"d@example.com\tinnocent\thome\thome=DE/Hamburg\n"

func TestScore(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	l := write("labels.tsv", labels)
	// flags a (right) and c (wrong), misses b
	r1 := write("r1.json", `{"user":"a@example.com","severity":"high","reasons":[{"detector":"many_places","severity":"high","text":"6 new countries"}]}`+"\n"+
		`{"user":"c@example.com","severity":"medium","reasons":[{"detector":"new_place","severity":"medium","text":"new country GB"}]}`+"\n")
	r2 := write("r2.json", `{"user":"a@example.com","countries":["BR","CN"],"ips":[{},{}]}`+"\n"+`{"user":"b@example.com"}`+"\n")
	var out, errs bytes.Buffer
	if rc := run([]string{"-labels", l, "one=" + r1, "two=" + r2}, &out, &errs); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs.String())
	}
	for _, want := range []string{
		"one                          1     1     1     1    50.0%          250.0",
		"two                          2     0     0     2   100.0%            0.0",
		"false alarms by kind: traveller-roaming 1",
		"FP c@example.com (traveller-roaming)  [medium; new_place: new country GB]",
		"FN b@example.com (far-single)",
		"attack=far-single(...) | home=DE/Berlin",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}

	for _, c := range []struct {
		name, report, want string
	}{
		{"unknown user", `{"user":"z@example.com"}`, "z@example.com is not in the labels"},
		{"incomplete", `{"incomplete":true,"unread":[]}`, "incomplete"},
		{"not json", `{"user":`, "unexpected EOF"},
	} {
		errs.Reset()
		p := write("bad.json", c.report)
		if rc := run([]string{"-labels", l, "x=" + p}, &out, &errs); rc != 1 || !strings.Contains(errs.String(), c.want) {
			t.Errorf("%s: exit %d, %q; want 1 and %q", c.name, rc, errs.String(), c.want)
		}
	}
	errs.Reset()
	if rc := run([]string{"-labels", write("bad.tsv", "a@example.com\tmaybe\tx\ty\n"), "x=" + r1}, &out, &errs); rc != 1 || !strings.Contains(errs.String(), "innocent|compromised") {
		t.Errorf("bad label: exit %d, %q", rc, errs.String())
	}
}
