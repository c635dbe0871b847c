package steplog

import (
	"slices"
	"testing"
)

func TestLoggerWritesOneLinePerRecord(t *testing.T) {
	tests := []struct {
		name string
		log  func()
		want []string
	}{
		{"info with plain values", func() { Logger().Info("using ClientIp", "ip", "192.0.2.1") },
			[]string{"using ClientIp ip=192.0.2.1"}},
		{"warning is marked", func() { Logger().Warn("record left in place", "name", "_acme-challenge.example.com") },
			[]string{"warning: record left in place name=_acme-challenge.example.com"}},
		{"values with spaces, quotes, equals or nothing are quoted", func() {
			Logger().Info("retry", "why", "rate limited", "q", `a"b`, "kv", "a=b", "empty", "")
		}, []string{`retry why="rate limited" q="a\"b" kv="a=b" empty=""`}},
		{"attributes of With come first", func() { Logger().With("provider", "namecheap").Info("wrote", "zone", "example.com") },
			[]string{"wrote provider=namecheap zone=example.com"}},
		{"debug is dropped", func() { Logger().Debug("request body") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			restore := Use(func(l string) { got = append(got, l) })
			tt.log()
			restore()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUseNestsAndRestores(t *testing.T) {
	var outer, inner []string
	restoreOuter := Use(func(l string) { outer = append(outer, l) })
	l := Logger() // built before the inner run, as providers are
	restoreInner := Use(func(l string) { inner = append(inner, l) })
	l.Info("during inner")
	restoreInner()
	l.Info("after inner")
	restoreOuter()
	l.Info("after every run") // dropped
	if !slices.Equal(inner, []string{"during inner"}) || !slices.Equal(outer, []string{"after inner"}) {
		t.Fatalf("inner %q, outer %q", inner, outer)
	}
}
