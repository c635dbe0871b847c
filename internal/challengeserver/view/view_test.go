package view

import (
	"slices"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// UUID subdomains (kept by their 16 bytes) and other labels behave alike:
// registered without values, newest first, limited, expired, removed.
func TestViewKeys(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := t0
	v := New(func() time.Time { return now })
	v.SetLimit(2)
	for _, sub := range []string{"d420c923-0000-4000-8000-c3ca54c9b3cf", "custom-label", "D420C923-0000-4000-8000-C3CA54C9B3CE"} {
		label := lower(sub)
		v.Set(sub, nil)
		if txt, ok := v.Lookup(label); !ok || txt != nil {
			t.Fatalf("%s registered without values: %v %v", sub, txt, ok)
		}
		for i, text := range []string{"a", "b", "c"} {
			up := t0.Add(time.Duration(i) * time.Second)
			v.Put(sub, store.Value{Text: text, Updated: up, Expires: up.Add(time.Minute)}, 0)
		}
		if txt, _ := v.Lookup(label); !slices.Equal(txt, []string{"c", "b"}) {
			t.Fatalf("%s: %v, want the two newest, newest first", sub, txt)
		}
		v.Remove(sub, "c")
		if txt, _ := v.Lookup(label); !slices.Equal(txt, []string{"b", "a"}) {
			t.Fatalf("%s after removing c: %v", sub, txt)
		}
		now = t0.Add(60*time.Second + 500*time.Millisecond)
		if txt, ok := v.Lookup(label); !ok || !slices.Equal(txt, []string{"b"}) {
			t.Fatalf("%s after a expired: %v %v", sub, txt, ok)
		}
		now = t0
	}
	if v.Len() != 3 {
		t.Fatalf("Len %d", v.Len())
	}
	v.Delete("CUSTOM-label")
	if _, ok := v.Lookup("custom-label"); ok || v.Len() != 2 {
		t.Fatal("custom-label not deleted")
	}
	v.Replace(map[string][]store.Value{"x": nil, store.ZoneKey("_acme-challenge"): {{Text: "z", Expires: t0.Add(time.Hour)}}})
	if _, ok := v.Lookup("d420c923-0000-4000-8000-c3ca54c9b3cf"); ok || v.Len() != 1 || !slices.Equal(v.ZoneTXT("_acme-challenge"), []string{"z"}) {
		t.Fatal("Replace")
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
