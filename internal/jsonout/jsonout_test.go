package jsonout

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Values []string `json:"values"`
}

type doc struct {
	Name    string            `json:"name"`
	Names   []string          `json:"names"`
	Skipped []string          `json:"skipped,omitempty"`
	Inner   *inner            `json:"inner"`
	Rows    []inner           `json:"rows"`
	Steps   map[string]int    `json:"steps"`
	At      time.Time         `json:"at"`
	Any     any               `json:"any"`
	hidden  []string          // unexported: not encoded, must not break the copy
	Extra   map[string][]bool `json:"extra"`
}

// TestWriteDocument pins the envelope every --json document shares: one
// object, schema_version first, empty lists [] and omitempty still honoured.
func TestWriteDocument(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var buf bytes.Buffer
	err := Write(&buf, &doc{Name: "a", Inner: &inner{}, Rows: []inner{{}}, At: at, Any: inner{}, Extra: map[string][]bool{"x": nil}, hidden: nil})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "{\n  \"schema_version\": 1,\n") {
		t.Fatalf("schema_version is not the first member:\n%s", out)
	}
	if strings.Contains(out, "null") {
		t.Fatalf("null in the document:\n%s", out)
	}
	if strings.Contains(out, "skipped") {
		t.Fatalf("omitempty field written:\n%s", out)
	}
	dec := json.NewDecoder(&buf)
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("more than one document")
	}
	for _, k := range []string{"names", "rows"} {
		if _, ok := got[k].([]any); !ok {
			t.Errorf("%s = %#v, want a list", k, got[k])
		}
	}
	if got["inner"].(map[string]any)["values"] == nil || got["any"].(map[string]any)["values"] == nil {
		t.Errorf("nested lists not filled: %v", got)
	}
	if got["at"] != at.Format(time.RFC3339) {
		t.Errorf("at = %v: a json.Marshaler must encode itself", got["at"])
	}
}

func TestWriteRefusesWhatIsNotAnObject(t *testing.T) {
	for _, v := range []any{nil, []string{"a"}, 1, "x"} {
		if err := Write(&bytes.Buffer{}, v); err == nil {
			t.Errorf("Write(%#v): no error", v)
		}
	}
}

func TestWriteEmptyObject(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(buf.String()), ""); got != `{"schema_version":1}` {
		t.Errorf("got %s", got)
	}
}

// A command that failed before writing its document still gives a script
// one object: ok false, the exit code and the error.
func TestFailureIsOneObjectWithTheExitCode(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFailure(&b, 2, errors.New("--server: bad")); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["ok"] != false || doc["exit_code"] != float64(2) || doc["error"] != "--server: bad" || doc["schema_version"] != float64(SchemaVersion) {
		t.Errorf("got %v", doc)
	}
}

// TestGuardWritesTheFailureOnlyWhenNothingWasWritten pins that a command
// that already wrote its document gets no second one.
func TestGuardWritesTheFailureOnlyWhenNothingWasWritten(t *testing.T) {
	var b strings.Builder
	g := &Guard{W: &b}
	g.Fail(3, errors.New("rate limited"))
	if !strings.Contains(b.String(), `"exit_code": 3`) {
		t.Fatalf("nothing written: got %q, want the failure document", b.String())
	}
	b.Reset()
	g = &Guard{W: &b}
	_, _ = g.Write([]byte("{}\n"))
	g.Fail(3, errors.New("rate limited"))
	if b.String() != "{}\n" {
		t.Fatalf("document written: got %q, want it alone", b.String())
	}
}
