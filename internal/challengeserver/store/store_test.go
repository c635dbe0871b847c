package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
	"github.com/strictacme/strictacme/internal/challengeserver/store/storetest"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// loadAll collects what s.Load streams; it copies each call's values,
// which Load reuses.
func loadAll(ctx context.Context, s store.Store, now time.Time) (map[string][]store.Value, int64, error) {
	subs := map[string][]store.Value{}
	seq, err := s.Load(ctx, now, func(sub string, vals []store.Value) {
		if _, dup := subs[sub]; dup {
			panic("Load gave " + sub + " twice")
		}
		subs[sub] = append([]store.Value{}, vals...)
	})
	return subs, seq, err
}

func engines(t *testing.T, f func(t *testing.T, open func() *store.SQL)) {
	t.Run("sqlite", func(t *testing.T) {
		path := t.TempDir() + "/s.db"
		f(t, func() *store.SQL {
			s, err := store.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.Postgres(t)
		f(t, func() *store.SQL {
			s, err := store.OpenPostgres(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func TestAccounts(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		s := open()
		a := store.Account{Username: "u1", PasswordHash: []byte("$2a$10$hash"), Subdomain: "s1",
			AllowFrom: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Created: t0}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccount(ctx, store.Account{Username: "u2", PasswordHash: []byte("x"), Subdomain: "s1"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate subdomain: %v", err)
		}
		got, err := s.Account(ctx, "u1")
		if err != nil || got.Subdomain != "s1" || string(got.PasswordHash) != "$2a$10$hash" || got.AllowFrom[0].String() != "192.0.2.0/24" || !got.Created.Equal(t0) {
			t.Fatalf("%+v %v", got, err)
		}
		if err := s.SetPassword(ctx, "u1", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAllowFrom(ctx, "u1", nil); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Account(ctx, "u1")
		if string(got.PasswordHash) != "new" || len(got.AllowFrom) != 0 {
			t.Fatalf("%+v", got)
		}
		if _, err := s.Account(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	})
}

func TestValuesChangesExpire(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		s := open()
		s.CreateAccount(ctx, store.Account{Username: "u", PasswordHash: []byte("h"), Subdomain: "sub"})
		_, seq0, _ := loadAll(ctx, s, t0)
		for i, txt := range []string{"a", "b", "c", "d"} {
			up := t0.Add(time.Duration(i) * time.Second)
			if err := s.PutTXT(ctx, "sub", store.Value{Text: txt, Updated: up, Expires: up.Add(time.Minute)}, 3); err != nil {
				t.Fatal(err)
			}
		}
		subs, seq, err := loadAll(ctx, s, t0.Add(5*time.Second))
		if err != nil || len(subs["sub"]) != 3 || subs["sub"][0].Text != "b" || seq <= seq0 {
			t.Fatalf("%v %d %v", subs, seq, err)
		}
		ch, err := s.Changes(ctx, seq0, nil)
		if err != nil || len(ch) != 4 || ch[0].Subdomain != "sub" {
			t.Fatalf("changes %v %v", ch, err)
		}
		if ch, _ := s.Changes(ctx, seq, []int64{ch[0].Seq}); len(ch) != 1 {
			t.Fatalf("also: %v", ch)
		}
		if n, err := s.DeleteTXT(ctx, "sub", "c"); n != 1 || err != nil {
			t.Fatal(n, err)
		}
		got, _ := s.Subdomains(ctx, []string{"sub", "none"}, t0.Add(62*time.Second))
		if _, ok := got["none"]; ok || len(got["sub"]) != 1 || got["sub"][0].Text != "d" {
			t.Fatalf("%v", got)
		}
		if n, err := s.Expire(ctx, t0.Add(2*time.Minute), 0, 0); n != 2 || err != nil {
			t.Fatal(n, err)
		}
		if _, seq2, _ := loadAll(ctx, s, t0); seq2 != seq+1 {
			t.Fatalf("the newest change must survive pruning: %d vs %d", seq2, seq+1)
		}
	})
}

func TestReopenKeepsData(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		s := open()
		s.CreateAccount(ctx, store.Account{Username: "u", PasswordHash: []byte("h"), Subdomain: "sub"})
		s.PutTXT(ctx, "sub", store.Value{Text: "v", Updated: t0, Expires: t0.Add(time.Hour)}, 0)
		s.Close()
		s2 := open() // migrations run again: idempotent
		subs, _, err := loadAll(ctx, s2, t0)
		if err != nil || len(subs["sub"]) != 1 {
			t.Fatalf("%v %v", subs, err)
		}
	})
}

// An acme-dns v1 SQLite database (schema of acme-dns's pkg/database/db.go)
// imports with its bcrypt hashes.
func TestImportAcmeDNS(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/acme-dns.db"
	db, err := sql.Open("sqlite", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE acmedns(Name TEXT, Value TEXT)`,
		`INSERT INTO acmedns VALUES ('db_version', '1')`,
		`CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`,
		`CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`,
		`INSERT INTO records VALUES ('EABCDB41-0000-4000-8000-3E62E9755EF2', '$2a$10$abc', 'd420c923-0000-4000-8000-c3ca54c9b3cf', '["10.0.0.0/8","[::1]/128"]')`,
		`INSERT INTO records VALUES ('11111111-0000-4000-8000-000000000000', '$2a$10$def', 'custom-label', NULL)`,
		`INSERT INTO txt VALUES ('d420c923-0000-4000-8000-c3ca54c9b3cf', 'fresh', ` + itoa(t0.Add(-time.Minute).Unix()) + `)`,
		`INSERT INTO txt VALUES ('d420c923-0000-4000-8000-c3ca54c9b3cf', 'stale', 1)`,
		`INSERT INTO txt VALUES ('custom-label', '', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	db.Close()
	dst, err := store.OpenSQLite(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	res, err := store.ImportAcmeDNS(ctx, dst, "sqlite3", src, t0, time.Hour)
	if err != nil || res.Accounts != 2 || res.Values != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	a, err := dst.Account(ctx, "eabcdb41-0000-4000-8000-3e62e9755ef2")
	if err != nil || string(a.PasswordHash) != "$2a$10$abc" || len(a.AllowFrom) != 2 || a.AllowFrom[1].String() != "::1/128" {
		t.Fatalf("%+v %v", a, err)
	}
	res, _ = store.ImportAcmeDNS(ctx, dst, "sqlite", src, t0, time.Hour)
	if res.Skipped != 2 || res.Accounts != 0 {
		t.Fatalf("re-import: %+v", res)
	}
	// The import's large page cache is given back: the server's own size
	// again, not SQLite's default.
	var kib int
	if err := dst.DB().QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&kib); err != nil || kib != -store.SQLiteCacheKiB {
		t.Fatalf("cache_size after the import = %d, %v; want %d", kib, err, -store.SQLiteCacheKiB)
	}
}

// TestSQLiteCacheSizeIsSet pins that the page cache of the server's
// connection is SQLiteCacheKiB as SQLitePragmas writes it out.
func TestSQLiteCacheSizeIsSet(t *testing.T) {
	s, err := store.OpenSQLite(context.Background(), t.TempDir()+"/s.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var kib int
	if err := s.DB().QueryRow(`PRAGMA cache_size`).Scan(&kib); err != nil || kib != -store.SQLiteCacheKiB {
		t.Fatalf("cache_size = %d, %v; want %d", kib, err, -store.SQLiteCacheKiB)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The janitor's Expire keeps the newest limit values of every subdomain
// (values stored under a higher limit, or imported) and drops the rest.
func TestExpireKeepsNewestPerSubdomain(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		s := open()
		for _, sub := range []string{"s1", "s2"} {
			s.CreateAccount(ctx, store.Account{Username: "u" + sub, PasswordHash: []byte("h"), Subdomain: sub})
			for i := range 6 {
				up := t0.Add(time.Duration(i) * time.Second)
				if err := s.PutTXT(ctx, sub, store.Value{Text: sub + "-" + strconv.Itoa(i), Updated: up, Expires: up.Add(time.Hour)}, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n, err := s.Expire(ctx, t0.Add(time.Minute), time.Hour, 2); n != 8 || err != nil {
			t.Fatalf("removed %d, %v; want 8", n, err)
		}
		subs, _, err := loadAll(ctx, s, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"s1", "s2"} {
			var got []string
			for _, v := range subs[sub] {
				got = append(got, v.Text)
			}
			if strings.Join(got, ",") != sub+"-4,"+sub+"-5" {
				t.Errorf("%s keeps %v, want its two newest", sub, got)
			}
		}
	})
}

// Ping writes and commits its probe row on both engines; on SQLite it fails
// with ErrFileChanged once the file is deleted, and recovers when the same
// file is back.
func TestPingProvesWrites(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		s := open()
		if err := s.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	path := t.TempDir() + "/s.db"
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	err = s.Ping(context.Background())
	if !errors.Is(err, store.ErrFileChanged) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("file moved away: %v", err)
	}
	if err := s.CreateAccount(context.Background(), store.Account{Username: "u", PasswordHash: []byte("h"), Subdomain: "s"}); !errors.Is(err, store.ErrFileChanged) {
		t.Fatalf("write with the file moved away: %v", err)
	}
	if err := os.Rename(path+".moved", path); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("file back: %v", err)
	}
}

// Values written in no particular subdomain order (as clients update them)
// come out of Load at their own accounts, the live ones only, oldest first;
// accounts without values come with none.
func TestLoadValuesWrittenOutOfSubdomainOrder(t *testing.T) {
	engines(t, func(t *testing.T, open func() *store.SQL) {
		ctx := context.Background()
		s := open()
		for i, sub := range []string{"s3", "s1", "s2", "s0"} {
			if err := s.CreateAccount(ctx, store.Account{Username: "u" + sub, PasswordHash: []byte("h" + strconv.Itoa(i)), Subdomain: sub, Created: t0}); err != nil {
				t.Fatal(err)
			}
		}
		exp := t0.Add(time.Hour)
		for i, w := range []struct{ sub, text string }{
			{"s3", "c1"}, {"s1", "a1"}, {"s3", "c2"}, {"s2", "b1"}, {"s1", "a2"}, {"s2", "gone"}, {"s3", "c0"},
		} {
			up := t0.Add(time.Duration(i) * time.Second)
			if w.text == "c0" {
				up = t0.Add(-time.Minute) // older than the others of s3
			}
			v := store.Value{Text: w.text, Updated: up, Expires: exp}
			if w.text == "gone" {
				v.Expires = t0.Add(time.Second)
			}
			if err := s.PutTXT(ctx, w.sub, v, 0); err != nil {
				t.Fatal(err)
			}
		}
		subs, _, err := loadAll(ctx, s, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"s0": "", "s1": "a1 a2", "s2": "b1", "s3": "c0 c1 c2"}
		if len(subs) != len(want) {
			t.Fatalf("%d subdomains: %v", len(subs), subs)
		}
		for sub, w := range want {
			var got []string
			for _, v := range subs[sub] {
				got = append(got, v.Text)
			}
			if strings.Join(got, " ") != w {
				t.Errorf("%s: %v, want %s", sub, got, w)
			}
		}
	})
}
