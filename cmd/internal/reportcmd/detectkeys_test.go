package reportcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
)

// The [DETECT] keys that were constants reach the detectors' config; a
// bad value is a usage error naming the key.
func TestDetectKeysConstants(t *testing.T) {
	for _, c := range []struct {
		name, ini string
		want      detect.Config // LineHold, SharedDays, FamiliarSite, Scattered, ScatteredSpan
		err       string
	}{
		{name: "defaults", ini: "", want: detect.Config{LineHold: 3 * time.Hour, SharedDays: 1, FamiliarSite: 100, Scattered: 4, ScatteredSpan: 7 * 24 * time.Hour, LoneFar: 5000}},
		{name: "set", ini: "[DETECT]\nline_hold = 5h\nshared_days = 2\nfamiliar_site = 40\nscattered = 5\nscattered_span = 10d\n",
			want: detect.Config{LineHold: 5 * time.Hour, SharedDays: 2, FamiliarSite: 40, Scattered: 5, ScatteredSpan: 10 * 24 * time.Hour, LoneFar: 5000}},
		{name: "scattered off", ini: "[DETECT]\nscattered = 0\n", want: detect.Config{LineHold: 3 * time.Hour, SharedDays: 1, FamiliarSite: 100, Scattered: -1, ScatteredSpan: 7 * 24 * time.Hour, LoneFar: 5000}},
		{name: "negative span", ini: "[DETECT]\nscattered_span = -1h\n", err: `[DETECT] scattered_span: "-1h" is not above zero`},
		{name: "negative scattered", ini: "[DETECT]\nscattered = -1\n", err: "[DETECT] scattered -1: must not be negative (0 turns it off)"},
		{name: "negative hold", ini: "[DETECT]\nline_hold = -1h\n", err: `[DETECT] line_hold: "-1h" is not above zero`},
		{name: "negative days", ini: "[DETECT]\nshared_days = -2\n", err: "[DETECT] shared_days -2: must not be negative"},
		{name: "lone_far", ini: "[DETECT]\nlone_far = 3000\n", want: detect.Config{LineHold: 3 * time.Hour, SharedDays: 1, FamiliarSite: 100, Scattered: 4, ScatteredSpan: 7 * 24 * time.Hour, LoneFar: 3000}},
		{name: "lone_far off", ini: "[DETECT]\nlone_far = 0\n", want: detect.Config{LineHold: 3 * time.Hour, SharedDays: 1, FamiliarSite: 100, Scattered: 4, ScatteredSpan: 7 * 24 * time.Hour, LoneFar: -1}},
		{name: "negative lone_far", ini: "[DETECT]\nlone_far = -5\n", err: "[DETECT] lone_far -5: must not be negative (0 turns it off)"},
		{name: "negative site", ini: "[DETECT]\nfamiliar_site = -1\n", err: "[DETECT] familiar_site -1: must not be negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := loadINI(t, c.ini)
			var f ReportFlags
			var r report.Rule
			err := cfg.Fill(&f) // a time is checked as it is read
			if err == nil {
				r, err = f.Rule(cfg)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || cli.ExitCodeOf(err) != cli.ExitUsage {
					t.Fatalf("err %v, want %q (usage)", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := r.Detect.Defaults()
			if d.LineHold != c.want.LineHold || d.SharedDays != c.want.SharedDays || d.FamiliarSite != c.want.FamiliarSite {
				t.Errorf("line_hold %v, shared_days %d, familiar_site %d; want %v, %d, %d",
					d.LineHold, d.SharedDays, d.FamiliarSite, c.want.LineHold, c.want.SharedDays, c.want.FamiliarSite)
			}
			if d.LoneFar != c.want.LoneFar {
				t.Errorf("lone_far %v; want %v", d.LoneFar, c.want.LoneFar)
			}
			if d.Scattered != c.want.Scattered || d.ScatteredSpan != c.want.ScatteredSpan {
				t.Errorf("scattered %d, scattered_span %v; want %d, %v", d.Scattered, d.ScatteredSpan, c.want.Scattered, c.want.ScatteredSpan)
			}
		})
	}
}
