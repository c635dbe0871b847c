package config

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps every key and table header of a file to its line, from
// the TOML parser's own syntax tree. Paths are dotted keys; an element of
// an array of tables is written with its index, e.g. "certificate.1.names".
type positions map[string]int

func locate(data []byte) positions {
	pos := positions{}
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

func walkKeyValue(p *unstable.Parser, e *unstable.Node, table []string, pos positions) {
	keys, line := keyOf(p, e.Key())
	full := append(append([]string{}, table...), keys...)
	pos.set(full, line)
	if v := e.Value(); v.Kind == unstable.InlineTable {
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				walkKeyValue(p, n, full, pos)
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

func (p positions) set(path []string, line int) {
	k := strings.Join(path, ".")
	if _, ok := p[k]; !ok {
		p[k] = line
	}
}

// line returns the line of path, 0 when it is not in the file.
func (p positions) line(path ...string) int { return p[strings.Join(path, ".")] }
