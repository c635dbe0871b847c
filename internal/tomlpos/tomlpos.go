// Package tomlpos finds the line of every key, table header and string
// array element of a TOML document from go-toml's own parser, so messages
// about a value can point at its line without reading another library's
// error text.
package tomlpos

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// Positions maps every key and table header of a document to its line,
// from the TOML parser's own syntax tree. Paths are dotted keys; an element
// of an array of tables is written with its index, e.g.
// "certificate.1.names". A document with a syntax error is mapped up to
// the error.
type Positions struct {
	keys   map[string]int
	values map[string]int // path + "\x00" + string element of an array
}

// Locate reads data and returns its positions.
func Locate(data []byte) Positions {
	pos := Positions{keys: map[string]int{}, values: map[string]int{}}
	p := unstable.Parser{}
	p.Reset(data)
	var table []string
	arrays := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			keys, line := keyOf(&p, e.Key())
			table = indexed(keys, arrays)
			if e.Kind == unstable.ArrayTable {
				arrays[strings.Join(keys, ".")]++
				table = indexed(keys, arrays)
			}
			pos.set(table, line)
		case unstable.KeyValue:
			walkKeyValue(&p, e, table, pos)
		}
	}
	return pos
}

func walkKeyValue(p *unstable.Parser, e *unstable.Node, table []string, pos Positions) {
	keys, line := keyOf(p, e.Key())
	full := append(append([]string{}, table...), keys...)
	pos.set(full, line)
	switch v := e.Value(); v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				walkKeyValue(p, n, full, pos)
			}
		}
	case unstable.Array:
		k := strings.Join(full, ".") + "\x00"
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.String {
				if _, seen := pos.values[k+string(n.Data)]; !seen {
					pos.values[k+string(n.Data)] = p.Shape(n.Raw).Start.Line
				}
			}
		}
	}
}

// indexed turns a header path into the path of its current element: the
// last array of tables on the way gets its index.
func indexed(keys []string, arrays map[string]int) []string {
	var out []string
	for i, k := range keys {
		out = append(out, k)
		if n, ok := arrays[strings.Join(keys[:i+1], ".")]; ok {
			out = append(out, strconv.Itoa(n-1))
		}
	}
	return out
}

func keyOf(p *unstable.Parser, it unstable.Iterator) ([]string, int) {
	var keys []string
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		keys = append(keys, string(n.Data))
	}
	return keys, line
}

// set records line for path and, where not known yet, for each of its
// prefixes: a table only ever named inside a longer header ([x.y],
// [[x]]) or a dotted key still has the line where it first appears.
func (p Positions) set(path []string, line int) {
	for i := 1; i <= len(path); i++ {
		k := strings.Join(path[:i], ".")
		if _, ok := p.keys[k]; !ok {
			p.keys[k] = line
		}
	}
}

// Line returns the line of the key or table header at path (elements
// joined with dots, so Line("api", "port") and Line("api.port") are the
// same), 0 when the document does not set it.
func (p Positions) Line(path ...string) int { return p.keys[strings.Join(path, ".")] }

// ValueLine returns the line of the string v in the array at path, for an
// array written over several lines; the line of the key when v is not one
// of its strings.
func (p Positions) ValueLine(v string, path ...string) int {
	k := strings.Join(path, ".")
	if l, ok := p.values[k+"\x00"+v]; ok {
		return l
	}
	return p.keys[k]
}

// Where is the location of a problem at line (1-based; 0 when unknown) of
// the file named file, as messages of every config file show it:
// "file:line", or "file" alone. file is the path as the user gave it (not
// its base name), so the message points at the file they meant.
func Where(file string, line int) string {
	if line > 0 {
		return file + ":" + strconv.Itoa(line)
	}
	return file
}
