package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Fill is how a flag overrides `[SECTION] key`, which overrides the
// default. dst points to a command's grammar (a struct; embedded structs
// are walked too). A field tagged `ini:"SECTION.key"` that still holds its
// zero value after the flags were parsed (its flag was not given) is set
// from the config when the key is set there. A field with `kong:"-"` is
// read from the config only. The tag option ",negate" sets a bool to the
// opposite of the key (--no-rdns and [ENRICH] rdns).
//
// A field may be a string, []string (split on new lines and commas, as
// List does), bool, int, *int, time.Duration or *time.Duration. File
// names resolve from the config's directory (the schema's kPath and
// kPaths). A value that is not of its type is a cli.UsageError naming
// "FILE: [SECTION] key". Every tagged key must be in the schema, so that
// the unknown-key warnings know it.
func (c *Config) Fill(dst any) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config.Fill: %T is not a pointer to a struct", dst))
	}
	return c.fill(v.Elem())
}

func (c *Config) fill(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if err := c.fill(fv); err != nil {
				return err
			}
			continue
		}
		tag, ok := sf.Tag.Lookup("ini")
		if !ok {
			continue
		}
		section, key, negate := ParseTag(tag)
		k, known := schema[section][key]
		if !known {
			panic(fmt.Sprintf("config: %s.%s: [%s] %s is not in the schema", t.Name(), sf.Name, section, key))
		}
		if isTime := k == kTime || k == kTimeOff; isTime != (sf.Type == durationType || sf.Type == reflect.PointerTo(durationType)) {
			panic(fmt.Sprintf("config: %s.%s: [%s] %s: a time key needs a time.Duration field, and only it", t.Name(), sf.Name, section, key))
		}
		if !fv.IsZero() {
			continue // the flag was given
		}
		set, err := c.fillField(fv, section, key, negate)
		if err != nil {
			return err
		}
		if set {
			if c.filled == nil {
				c.filled = map[string]bool{}
			}
			c.filled[section+"."+key] = true
		}
	}
	return nil
}

// ParseTag splits an ini tag: "ENRICH.rdns,negate".
func ParseTag(tag string) (section, key string, negate bool) {
	tag, opt, _ := strings.Cut(tag, ",")
	section, key, _ = strings.Cut(tag, ".")
	return section, key, opt == "negate"
}

var durationType = reflect.TypeFor[time.Duration]()

// fillField sets fv from the key, when it is set (and not empty).
func (c *Config) fillField(fv reflect.Value, section, key string, negate bool) (bool, error) {
	ft := fv.Type()
	ptr := ft.Kind() == reflect.Pointer
	if ptr {
		ft = ft.Elem()
	}
	var val any
	var set bool
	var err error
	switch {
	case ft == durationType:
		val, set, err = c.Duration(section, key)
	case ft.Kind() == reflect.Int:
		val, set, err = c.Int(section, key)
	case ft.Kind() == reflect.Bool:
		var b bool
		b, set, err = c.Bool(section, key)
		val = b != negate
	case ft.Kind() == reflect.String:
		val, set = c.String(section, key)
		set = set && val != ""
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
		l := c.List(section, key)
		val, set = l, len(l) > 0
	default:
		panic(fmt.Sprintf("config: [%s] %s: a field of type %s cannot be filled", section, key, fv.Type()))
	}
	if err != nil || !set {
		return false, err
	}
	x := reflect.ValueOf(val).Convert(ft)
	if ptr {
		p := reflect.New(ft)
		p.Elem().Set(x)
		x = p
	}
	fv.Set(x)
	return true, nil
}

// Filled tells whether Fill set a field from [section] key: for a message
// that names where a bad value came from.
func (c *Config) Filled(section, key string) bool { return c.filled[section+"."+key] }

// Origin names where the value of [section] key, or of its flag, came
// from: "FILE: [SECTION] key" when Fill took it from the file, else flag.
func (c *Config) Origin(section, key, flag string) string {
	if c.Filled(section, key) {
		return c.Where(section, key)
	}
	return flag
}
