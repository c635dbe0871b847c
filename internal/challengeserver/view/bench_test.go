package view

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// BenchmarkLookup100k looks up registered subdomains (random UUIDs, two
// live dns-01 values each) among 100,000, round-robin: the view's share
// of a TXT answer.
//
//	go test -run XXX -bench Lookup100k ./internal/challengeserver/view
func BenchmarkLookup100k(b *testing.B) {
	const n = 100_000
	exp := time.Now().Add(time.Hour)
	subs := make(map[string][]store.Value, n)
	names := make([]string, 0, n)
	for i := range n {
		var u [16]byte
		rand.Read(u[:])
		name := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		d1, d2 := sha256.Sum256([]byte(name+"1")), sha256.Sum256([]byte(name+"2"))
		subs[name] = []store.Value{
			{Text: base64.RawURLEncoding.EncodeToString(d1[:]), Updated: exp.Add(-time.Hour), Expires: exp},
			{Text: base64.RawURLEncoding.EncodeToString(d2[:]), Updated: exp.Add(-time.Minute), Expires: exp},
		}
		names = append(names, name)
		_ = i
	}
	v := New(nil)
	v.Replace(subs)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if txt, ok := v.Lookup(names[i%n]); !ok || len(txt) != 2 {
			b.Fatal(names[i%n], txt, ok)
		}
		i++
	}
}
