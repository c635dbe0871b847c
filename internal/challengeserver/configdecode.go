package challengeserver

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/strictacme/strictacme/internal/tomlpos"
)

// decodeConfig fills c from src one key at a time, so that every value of
// the wrong type is reported (one ConfigError each, with its line and key)
// rather than the first only, and every key c has no field for is reported
// as unknown. bad holds the keys reported, so that checks of their values
// are left out rather than repeat the problem. A syntax error stops the
// reading: it is returned as err, alone.
func decodeConfig(name string, src []byte, pos tomlpos.Positions, c *Config) (errs ConfigErrors, bad map[string]bool, err error) {
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&top)
	if err != nil {
		return nil, nil, err
	}
	bad = map[string]bool{}
	report := func(key string, line int, msg string) {
		if line == 0 {
			line = pos.Line(key)
		}
		bad[key] = true
		errs = append(errs, &ConfigError{File: name, Key: key, Line: line, Msg: msg})
	}
	const unknown = "unknown key (misspelt, or in the wrong [table]?)"
	cv := reflect.ValueOf(c).Elem()
	for _, table := range sortedKeys(top) {
		tv, ok := fieldByTag(cv, table)
		if !ok || tv.Kind() != reflect.Struct {
			report(table, 0, unknown)
			continue
		}
		var keys map[string]toml.Primitive
		if err := md.PrimitiveDecode(top[table], &keys); err != nil {
			report(table, 0, fmt.Sprintf("wrong type: want a table [%s], got %s", table, tomlKind(md, top[table])))
			continue
		}
		for _, k := range sortedKeys(keys) {
			key := table + "." + k
			f, ok := fieldByTag(tv, k)
			if !ok {
				report(key, 0, unknown)
				continue
			}
			if err := md.PrimitiveDecode(keys[k], f.Addr().Interface()); err != nil {
				f.Set(reflect.Zero(f.Type())) // nothing half-decoded
				line, msg := 0, err.Error()
				if m := decodeErrRE.FindStringSubmatch(msg); m != nil {
					fmt.Sscan(m[1], &line)
					msg = msg[len(m[0]):]
				}
				if strings.HasPrefix(msg, "incompatible types") {
					msg = fmt.Sprintf("wrong type: want %s, got %s", wantOf(f.Type()), tomlKind(md, keys[k]))
				}
				report(key, line, msg)
			}
		}
	}
	return errs, bad, nil
}

// decodeErrRE is the position BurntSushi/toml puts before a decoding
// error's own text.
var decodeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "[^"]*"\): `)

func sortedKeys(m map[string]toml.Primitive) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fieldByTag returns the field of struct v whose toml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if tag != "" && tag != "-" && tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// wantOf says in words what a field of type t takes.
func wantOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeOf(Duration{}):
		return `a duration such as "90s" or whole seconds`
	case t == reflect.TypeOf(time.Duration(0)):
		return `a duration such as "90s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(wantOf(t.Elem()), "a "), "an ") + "s"
	}
	return t.String()
}

// tomlKind says in words what kind of TOML value p is.
func tomlKind(md toml.MetaData, p toml.Primitive) string {
	var v any
	if err := md.PrimitiveDecode(p, &v); err != nil {
		return "another type"
	}
	return kindOf(v)
}

// kindOf says in words what kind of TOML value v (as decoded into an
// interface) is.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "a whole number"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}
