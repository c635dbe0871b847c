package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func entry(v string) JournalEntry {
	return JournalEntry{Provider: "namecheap", Zone: "example.com.", FQDN: "_acme-challenge.example.com.", Type: "TXT", Value: v, Written: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// TestDamagedJournalKeepsWhatCanBeRead: a journal.json cut short (in the
// middle of an entry, or to nothing) or replaced by something else fails
// with a *JournalDamagedError naming the file; the entries before the
// damage become the journal, the damaged bytes are kept beside it, and the
// next read succeeds.
func TestDamagedJournalKeepsWhatCanBeRead(t *testing.T) {
	for name, tc := range map[string]struct {
		cut  func(full string) string
		want []string
	}{
		"cut in the third entry":  {func(f string) string { return f[:strings.Index(f, `"v3"`)+2] }, []string{"v1", "v2"}},
		"cut after the first '{'": {func(f string) string { return f[:strings.Index(f, "{")+1] }, nil},
		"empty file":              {func(string) string { return "" }, nil},
		"not a list":              {func(string) string { return `{"provider":"namecheap"}` }, nil},
		"an entry without value":  {func(string) string { return `[{"provider":"namecheap","zone":"example.com."},` }, nil},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			j := st.Journal()
			if err := j.Add(entry("v1"), entry("v2"), entry("v3")); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(st.Root, "journal.json")
			full, _ := os.ReadFile(path)
			damaged := tc.cut(string(full))
			if err := os.WriteFile(path, []byte(damaged), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = j.Entries()
			var de *JournalDamagedError
			if !errors.As(err, &de) || de.Path != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), de.MovedTo) || de.MovedTo == "" {
				t.Fatalf("err = %v", err)
			}
			if got, _ := os.ReadFile(de.MovedTo); string(got) != damaged {
				t.Fatalf("damaged copy %s holds %q", de.MovedTo, got)
			}
			es, err := j.Entries()
			if err != nil {
				t.Fatalf("second read: %v", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Value)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || len(de.Recovered) != len(tc.want) {
				t.Fatalf("kept %q (error says %d), want %q", got, len(de.Recovered), tc.want)
			}
		})
	}
}
