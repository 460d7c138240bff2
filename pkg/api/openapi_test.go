package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func loadDoc(t testing.TB) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(OpenAPI()))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// docOps returns "METHOD /path" for each operation of the document.
func docOps(t testing.TB, doc map[string]any) []string {
	var ops []string
	for path, item := range doc["paths"].(map[string]any) {
		for k := range item.(map[string]any) {
			if slices.Contains(httpMethods, k) {
				ops = append(ops, strings.ToUpper(k)+" "+path)
			}
		}
	}
	slices.Sort(ops)
	return ops
}

// The document describes exactly the mux's routes: each route is in it,
// each of its operations is a route that the running server's mux
// dispatches, and no other method is served on its paths.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi %q", v)
	}
	var rts []string
	for _, r := range routes {
		rts = append(rts, r.method+" "+r.path)
	}
	slices.Sort(rts)
	ops := docOps(t, doc)
	if strings.Join(rts, "\n") != strings.Join(ops, "\n") {
		t.Fatalf("the mux's routes:\n%s\nthe document's operations:\n%s", strings.Join(rts, "\n"), strings.Join(ops, "\n"))
	}
	f := start(t, Config{})
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		concrete := strings.ReplaceAll(path, "{user}", "probe@example.test")
		// the mux has it, under that pattern
		req, _ := http.NewRequest(method, f.base+concrete, nil)
		if _, pattern := f.srv.mux.Handler(req); pattern != op {
			t.Errorf("%s: the mux's pattern for %s %s is %q", op, method, concrete, pattern)
		}
		// and the server answers it (not the mux's 404 or 405)
		a := f.do(method, concrete, opsToken, "")
		if a.status == 404 && strings.Contains(string(a.body), "no such route") || a.status == 405 {
			t.Errorf("%s: %d %s", op, a.status, a.body)
		}
		// each operation: its 401, and its path's parameters declared
		item := doc["paths"].(map[string]any)[path].(map[string]any)
		o := item[strings.ToLower(method)].(map[string]any)
		if _, ok := o["responses"].(map[string]any)["401"]; !ok {
			t.Errorf("%s: no 401 response", op)
		}
		// a 403 exactly where a token of the right read is refused
		need := RightBlock
		for _, r := range routes {
			if r.method+" "+r.path == op {
				need = r.need
			}
		}
		if _, ok := o["responses"].(map[string]any)["403"]; ok != (need > RightRead) {
			t.Errorf("%s: needs %s, and a 403 documented: %v", op, need, ok)
		}
		if strings.Contains(path, "{user}") && item["parameters"] == nil {
			t.Errorf("%s: {user} is not declared", op)
		}
		// no method other than the documented is served on the path
		for _, m := range []string{"GET", "PUT", "POST", "DELETE", "PATCH"} {
			if slices.Contains(ops, m+" "+path) || m == "GET" && slices.Contains(ops, "HEAD "+path) {
				continue
			}
			if a := f.do(m, concrete, opsToken, ""); a.status != 405 {
				t.Errorf("%s %s, undocumented: %d %s", m, path, a.status, a.body)
			}
		}
	}
	// the server serves the document itself, byte for byte
	if a := f.do("GET", "/v1/openapi.json", opsToken, ""); a.status != 200 || !bytes.Equal(a.body, OpenAPI()) || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /v1/openapi.json: %d %s", a.status, a.header)
	}
	// every reference resolves
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					if _, err := resolve(doc, x.(string)); err != nil {
						t.Errorf("%s: %v", where, err)
					}
					continue
				}
				walk(x, where+"/"+k)
			}
		case []any:
			for i, x := range v {
				walk(x, where+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
}

func resolve(doc map[string]any, ref string) (map[string]any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("%s: not a local reference", ref)
	}
	var cur any = doc
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: no %s", ref, part)
		}
		if cur, ok = m[part]; !ok {
			return nil, fmt.Errorf("%s: no %s", ref, part)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an object", ref)
	}
	return m, nil
}

// deref follows $ref.
func deref(t testing.TB, doc, m map[string]any) map[string]any {
	t.Helper()
	for m["$ref"] != nil {
		var err error
		if m, err = resolve(doc, m["$ref"].(string)); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// validate checks an answer against the document: its status is one the
// operation documents, its body matches the schema (the subset of JSON
// Schema the document uses: type, properties, required,
// additionalProperties, items, enum, nullable, allOf, date-time).
func (f *fixture) validate(name string, a answer) {
	t := f.t
	t.Helper()
	doc := loadDoc(t)
	req, _ := http.NewRequest(a.req.Method, a.req.URL.String(), nil)
	_, pattern := f.srv.mux.Handler(req)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		t.Errorf("%s: no route for %s %s", name, a.req.Method, a.req.URL)
		return
	}
	op := doc["paths"].(map[string]any)[path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(a.status)].(map[string]any)
	if !ok {
		t.Errorf("%s: %s documents no %d", name, pattern, a.status)
		return
	}
	resp = deref(t, doc, resp)
	schema := deref(t, doc, resp["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any))
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	for _, e := range check(t, doc, schema, v, "$") {
		t.Errorf("%s: %s against the document: %s", name, pattern, e)
	}
}

func check(t testing.TB, doc, schema map[string]any, v any, at string) []string {
	schema = deref(t, doc, schema)
	if v == nil {
		if schema["nullable"] == true {
			return nil
		}
		return []string{at + ": null"}
	}
	var errs []string
	if all, ok := schema["allOf"].([]any); ok {
		for _, s := range all {
			errs = append(errs, check(t, doc, s.(map[string]any), v, at)...)
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, enum))
	}
	typ, _ := schema["type"].(string)
	switch typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return append(errs, at+": not an object")
		}
		props, _ := schema["properties"].(map[string]any)
		for _, r := range schema["required"].([]any) {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: lacks %s", at, r))
			}
		}
		for k, x := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: %s is not documented", at, k))
				}
				continue
			}
			errs = append(errs, check(t, doc, p, x, at+"."+k)...)
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return append(errs, at+": not an array")
		}
		for i, x := range l {
			errs = append(errs, check(t, doc, schema["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return append(errs, at+": not a string")
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is not a date-time", at, s))
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return append(errs, at+": not a number")
		}
		if typ == "integer" {
			if f, err := n.Float64(); err != nil || f != math.Trunc(f) {
				errs = append(errs, fmt.Sprintf("%s: %s is not an integer", at, n))
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, at+": not a boolean")
		}
	}
	return errs
}

// The validator itself finds what is not documented.
func TestValidator(t *testing.T) {
	doc := loadDoc(t)
	block, _ := resolve(doc, "#/components/schemas/Block")
	for _, x := range []struct {
		body string
		errs int
	}{
		{`{"user":"u","reason":"","source":"manual","by":"x","created":"2026-11-28T14:00:00Z"}`, 0},
		{`{"user":"u","reason":"","source":"manual","by":"x","created":"2026-11-28T14:00:00Z","extra":1}`, 1},
		{`{"user":"u","reason":"","source":"manual","by":"x"}`, 1},
		{`{"user":1,"reason":"","source":"manual","by":"x","created":"yesterday"}`, 2},
	} {
		dec := json.NewDecoder(strings.NewReader(x.body))
		dec.UseNumber()
		var v any
		dec.Decode(&v)
		if errs := check(t, doc, block, v, "$"); len(errs) != x.errs {
			t.Errorf("%s: %v, want %d errors", x.body, errs, x.errs)
		}
	}
}
