package input

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rotationsFrom is threeRotations numbered from k0+1 (dateext names).
func rotationsFrom(events func(k, newLines, oldLines int) []stepEvent, k0, n, newLines, oldLines int) []stepEvent {
	var out []stepEvent
	for k := k0 + 1; k <= k0+n; k++ {
		out = append(out, events(k, newLines, oldLines)...)
	}
	return out
}

var errLabStop = errors.New("stopped")

// runRotatedSchedule: three rotations made and the log written, a
// follower with Rotated started; from its delivery d0 on, during the
// catch-up, each delivery makes the next `per` events of three more
// rotations; the rest are made with the follower looking before each
// (all) or none. restart: the follower is stopped at delivery d0 (its
// last mark kept), the events made while it is down being those the
// deliveries would have made, and another started from the mark.
func runRotatedSchedule(t *testing.T, dir string, zw *gzip.Writer, v func(k, newLines, oldLines int) []stepEvent, newLines, oldLines, d0, per int, all, restart, emptyLog bool) (string, int) {
	path := filepath.Join(dir, "mail.log")
	l := newStepLab(t, path, zw)
	defer l.close()
	l.write(newLines)
	for _, e := range rotationsFrom(v, 0, 3, newLines, oldLines) {
		e.do(l)
	}
	if !emptyLog {
		l.write(newLines)
	}
	events := rotationsFrom(v, 3, 3, newLines, oldLines)
	next := 0
	deliveries := 0
	c := &collector{}
	var f *Follower
	stopped := false
	onLines := func(ls Lines) error {
		if err := c.onLines(ls); err != nil {
			return err
		}
		deliveries++
		if deliveries < d0 || stopped {
			return nil
		}
		if restart {
			stopped = true
			return errLabStop
		}
		for range per {
			if next < len(events) {
				events[next].do(l)
				next++
			}
		}
		return nil
	}
	f = &Follower{Path: path, Rotated: true, OnLines: onLines, Warn: c.warn, MaxLine: 128}
	f.init()
	defer func() { f.closeAll() }()
	ctx := context.Background()
	step := func() string {
		err := f.step(ctx)
		if errors.Is(err, errLabStop) {
			f.closeAll()
			for range per {
				if next < len(events) {
					events[next].do(l)
					next++
				}
			}
			m := c.lastMark()
			f = &Follower{Path: path, Start: &m, OnLines: onLines, Warn: c.warn, MaxLine: 128}
			f.init()
			return ""
		}
		if err != nil {
			return fmt.Sprintf("step: %v", err)
		}
		return ""
	}
	if err := step(); err != "" {
		return err, deliveries
	}
	catchUp := deliveries
	for next < len(events) {
		if all {
			if err := step(); err != "" {
				return err, catchUp
			}
			if next >= len(events) {
				break
			}
		}
		events[next].do(l)
		next++
	}
	for range 3 {
		if err := step(); err != "" {
			return err, catchUp
		}
	}
	if len(c.warns) > 0 {
		return fmt.Sprintf("warnings: %q", c.warns), catchUp
	}
	return sequenceError(numbers(t, c.data.Bytes()), l.w.written()), catchUp
}

// TestFollowRotatedStepRotations: a follower with Rotated (a first
// start reading the files on disk) while rotations are made during its
// catch-up, from any of its deliveries, one event a delivery or all at
// once; and a follower stopped during its catch-up and started again
// from its last mark, rotations made meanwhile. Every line once, in
// order, without a warning.
func TestFollowRotatedStepRotations(t *testing.T) {
	for _, v := range stepVariants {
		if v.look != "" {
			continue
		}
		for _, lines := range []struct {
			name     string
			new, old int
			empty    bool
		}{{"long", 100, 20, false}, {"short", 3, 2, false}, {"long, log empty", 100, 20, true}, {"short, log empty", 3, 2, true}} {
			t.Run(v.name+"/"+lines.name, func(t *testing.T) {
				root := t.TempDir()
				zw := gzip.NewWriter(nil)
				runs, fails, kinds := 0, 0, map[string]bool{}
				total := 1
				for d0 := 1; d0 <= total; d0 += 1 + total/30 {
					for _, per := range []int{1, 100} {
						for _, all := range []bool{false, true} {
							for _, restart := range []bool{false, true} {
								runs++
								dir := filepath.Join(root, fmt.Sprint(runs))
								must(t, os.Mkdir(dir, 0o755))
								err, n := runRotatedSchedule(t, dir, zw, v.events, lines.new, lines.old, d0, per, all, restart, lines.empty)
								if d0 == 1 && !restart && per == 1 && !all {
									total = n
								}
								if err != "" {
									fails++
									kind := err[:strings.IndexAny(err+":", ":")]
									if !kinds[kind] {
										kinds[kind] = true
										t.Errorf("%s; from delivery %d, %d events a delivery, looking before every event %v, restart %v", err, d0, per, all, restart)
									}
								}
								must(t, os.RemoveAll(dir))
							}
						}
					}
				}
				if fails > 0 {
					t.Errorf("%d schedules of %d failed", fails, runs)
				}
			})
		}
	}
}

// One copytruncate (dateext, compress) made while a follower with
// Rotated reads the oldest rotated file, before it has read anything of
// the log: the
// lines the log held, copied to the new rotated file and truncated from
// the log, are read from the copy, once. (They were lost: the copy was
// taken for one known before the log was first looked at.)
func TestFollowRotatedCopytruncateDuringCatchUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	w := newLogWriter(t, path)
	for k := 1; k <= 2; k++ {
		w.write(50)
		dated := fmt.Sprintf("%s-2026110%d", path, k)
		copyFile(t, path, dated)
		must(t, os.Truncate(path, 0))
		gzipAs(t, dated, dated+".gz")
	}
	w.write(50) // the log's lines: 100 to 149
	c := &collector{}
	rotated := false
	f := &Follower{Path: path, Rotated: true, Warn: c.warn, MaxLine: 256, OnLines: func(l Lines) error {
		if !rotated {
			rotated = true
			copyFile(t, path, path+"-20261103")
			must(t, os.Truncate(path, 0))
			w.write(10)
		}
		return c.onLines(l)
	}}
	step := stepper(t, f)
	step()
	step()
	if msg := sequenceError(numbers(t, c.data.Bytes()), w.written()); msg != "" || len(c.warns) > 0 {
		t.Fatalf("%s (warnings: %q)", msg, c.warns)
	}
}
