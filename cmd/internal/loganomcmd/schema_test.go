package loganomcmd

import (
	"reflect"
	"slices"
	"testing"

	"github.com/loganom/loganom/cmd/internal/config"
)

// Every key of the sections the stages read ([GENERAL], [ENRICH],
// [FILTER], [REPORT]) is named by an ini tag of the wrapper's flags, which
// take every stage's: so a key in the schema (which the unknown-key
// warnings read) is a key a command reads, and config.Fill checks the
// other way round (a tag names a key of the schema).
func TestSchemaKeysAreTags(t *testing.T) {
	tags := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			}
			if tag, ok := f.Tag.Lookup("ini"); ok {
				section, key, _ := config.ParseTag(tag)
				tags[section+"."+key] = true
			}
		}
	}
	walk(reflect.TypeFor[postfixSASLCmd]())
	if len(tags) == 0 {
		t.Fatal("no ini tags")
	}
	for _, section := range []string{"GENERAL", "ENRICH", "FILTER", "REPORT"} {
		keys := config.Keys(section)
		if len(keys) == 0 {
			t.Errorf("[%s]: no keys in the schema", section)
		}
		for _, k := range keys {
			if !tags[section+"."+k] {
				t.Errorf("[%s] %s is in the schema but no flag or field reads it", section, k)
			}
		}
	}
	var all []string
	for k := range tags {
		all = append(all, k)
	}
	slices.Sort(all)
	t.Logf("ini tags: %v", all)
}
