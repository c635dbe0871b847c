package tomlpos

import "testing"

// Keys, headers, elements of arrays of tables, inline tables and the
// strings of an array written over several lines each get their own line;
// what the document does not set is 0.
func TestEveryKeyAndArrayStringHasItsLine(t *testing.T) {
	src := `[defaults]
email = "ops@example.com"

[[certificate]]
names = ["a.example"]

[[certificate]]
name = "second"
names = [
  "b.example",
  "c.example",
]
hooks = { deploy = "reload" }
`
	pos := Locate([]byte(src))
	for _, tc := range []struct {
		path []string
		want int
	}{
		{[]string{"defaults"}, 1},
		{[]string{"defaults", "email"}, 2},
		{[]string{"certificate", "0"}, 4},
		{[]string{"certificate", "0", "names"}, 5},
		{[]string{"certificate", "1"}, 7},
		{[]string{"certificate.1.name"}, 8},
		{[]string{"certificate", "1", "hooks", "deploy"}, 13},
		{[]string{"certificate", "1", "nope"}, 0},
	} {
		if got := pos.Line(tc.path...); got != tc.want {
			t.Errorf("Line(%v) = %d, want %d", tc.path, got, tc.want)
		}
	}
	if got := pos.ValueLine("c.example", "certificate", "1", "names"); got != 11 {
		t.Errorf("ValueLine(c.example) = %d, want 11", got)
	}
	if got := pos.ValueLine("z.example", "certificate", "1", "names"); got != 9 {
		t.Errorf("ValueLine of a string not there = %d, want the key's line 9", got)
	}
}

// A syntax error stops the map where the parser stopped; what came before
// keeps its lines.
func TestSyntaxErrorKeepsTheLinesBeforeIt(t *testing.T) {
	pos := Locate([]byte("[general]\ndomain = \"auth.example.org\"\nlisten = [\n"))
	if pos.Line("general", "domain") != 2 {
		t.Fatalf("domain at %d", pos.Line("general", "domain"))
	}
}

// A location names the file as given, with the line when known.
func TestWhereKeepsThePathAsGiven(t *testing.T) {
	for _, tt := range []struct {
		file string
		line int
		want string
	}{
		{"cfg/serve_bad.toml", 3, "cfg/serve_bad.toml:3"},
		{"/etc/strictacme/config.toml", 12, "/etc/strictacme/config.toml:12"},
		{"./a.toml", 0, "./a.toml"},
	} {
		if got := Where(tt.file, tt.line); got != tt.want {
			t.Errorf("Where(%q, %d) = %q, want %q", tt.file, tt.line, got, tt.want)
		}
	}
}
