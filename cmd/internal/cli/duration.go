package cli

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// ErrNoUnit: a time written as a bare number ("24"), which could be
// seconds, hours or days; ParseDuration refuses it rather than guess.
var ErrNoUnit = errors.New("has no unit")

// ParseDuration reads a time as the config and the flags write them:
// Go's durations ("2s", "90m", "36h", "1h30m") and days ("30d", "1.5d").
// "0" is zero; any other bare number is ErrNoUnit.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n == 0 {
			return 0, nil
		}
		return 0, ErrNoUnit
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if f, err := strconv.ParseFloat(n, 64); err == nil {
			// (NaN, the infinities and more days than a Duration
			// holds have no duration: converting them is undefined)
			if d := f * 24 * float64(time.Hour); !math.IsNaN(d) && math.Abs(d) < math.MaxInt64 {
				return time.Duration(d), nil
			}
			return 0, fmt.Errorf("%q: not a number of days a time can hold", s)
		}
	}
	return time.ParseDuration(s)
}

// NoUnitHint is the hint for a bare number n given as a time.
func NoUnitHint(n string) string {
	return fmt.Sprintf("write %[1]sh or %[1]sd (or %[1]sm, %[1]ss): a time needs its unit", n)
}

// durationMapper reads a time.Duration flag as ParseDuration reads it
// (days too), and refuses a time that is not above zero: no flag takes
// one (a flag left at zero is one not given, the config's or the default).
func durationMapper(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("duration")
	if err != nil {
		return err
	}
	s := fmt.Sprint(t.Value)
	d, err := ParseDuration(s)
	switch {
	case errors.Is(err, ErrNoUnit):
		return UsageError{Err: fmt.Errorf("%q %w", s, ErrNoUnit), Hint: NoUnitHint(strings.TrimSpace(s))}
	case err != nil:
		return fmt.Errorf("%q is not a duration (like 2s, 36h, 30d)", s)
	case d <= 0:
		return fmt.Errorf("%q is not above zero: want a time, like 2s, 36h or 30d", s)
	}
	target.SetInt(int64(d))
	return nil
}

// DurationMapper is the kong option ParseCommand gives every command.
var DurationMapper = kong.TypeMapper(reflect.TypeFor[time.Duration](), kong.MapperFunc(durationMapper))
