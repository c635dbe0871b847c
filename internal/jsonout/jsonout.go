// Package jsonout writes the --json document of a strictacme command: one
// JSON object per invocation on stdout, whose first member is
// "schema_version" and in which a list is [] when empty, never null.
//
// Scripts check schema_version before reading anything else: it changes
// only when a field is renamed, removed or changes meaning (docs/json.md).
package jsonout

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
)

// SchemaVersion is the version of every --json document. Adding a field
// keeps it; renaming, removing or changing the meaning of one raises it.
const SchemaVersion = 1

// Write encodes v, which must encode as a JSON object, as one indented
// document on w with "schema_version" as its first member. Nil slices
// anywhere in v are written as [] (nil maps as {}); fields tagged omitempty
// are still left out when empty. It returns an error when v does not
// encode as an object or w fails.
func Write(w io.Writer, v any) error {
	if v == nil {
		return errors.New("jsonout: no document")
	}
	b, err := json.Marshal(fill(reflect.ValueOf(v)).Interface())
	if err != nil {
		return err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return errors.New("jsonout: the document is not a JSON object")
	}
	var doc bytes.Buffer
	doc.WriteString(`{"schema_version":` + strconv.Itoa(SchemaVersion))
	if rest := b[1:]; !bytes.Equal(rest, []byte("}")) {
		doc.WriteByte(',')
		doc.Write(rest)
	} else {
		doc.WriteByte('}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// Failure is the document of a command that failed before it wrote its
// own: ok false, the exit code and the error's text, so that a script
// reading --json still gets one object.
type Failure struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
}

// WriteFailure writes the Failure document of err with exit code code.
func WriteFailure(w io.Writer, code int, err error) error {
	return Write(w, Failure{OK: false, ExitCode: code, Error: err.Error()})
}

// Guard is a command's stdout that knows whether anything was written
// to it, so that a failed --json command writes the Failure document
// only when it wrote no document of its own.
type Guard struct {
	W io.Writer
	n int
}

func (g *Guard) Write(p []byte) (int, error) {
	n, err := g.W.Write(p)
	g.n += n
	return n, err
}

// Fail writes the Failure document of err to W when nothing was written.
func (g *Guard) Fail(code int, err error) {
	if g.n == 0 {
		_ = WriteFailure(g.W, code, err)
	}
}

// fill returns a copy of v in which every nil slice is empty and every
// nil map is empty, so encoding/json writes [] and {} for them. Values
// that encode themselves (json.Marshaler) are left as they are.
func fill(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	t := v.Type()
	if t.Implements(marshaler) && t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		if t.Implements(marshaler) && !t.Elem().Implements(marshaler) {
			return v
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(fill(v.Elem()))
		return p
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(t).Elem()
		c.Set(fill(v.Elem()))
		return c
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // []byte encodes as a base64 string
			return v
		}
		c := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(fill(v.Index(i)))
		}
		return c
	case reflect.Array:
		c := reflect.New(t).Elem()
		for i := range v.Len() {
			c.Index(i).Set(fill(v.Index(i)))
		}
		return c
	case reflect.Map:
		c := reflect.MakeMapWithSize(t, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			c.SetMapIndex(iter.Key(), fill(iter.Value()))
		}
		return c
	case reflect.Struct:
		c := reflect.New(t).Elem()
		c.Set(v)
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			c.Field(i).Set(fill(v.Field(i)))
		}
		return c
	}
	return v
}
