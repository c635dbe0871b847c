package challengeserver

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// startStoppable is start with an explicit stop, for restarts within a test.
func startStoppable(t *testing.T, cfgText string) (*instance, func()) {
	t.Helper()
	cfg, err := ParseConfig("test.toml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(t.Context(), cfg, Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return &instance{t: t, srv: srv, url: "http://" + srv.APIAddrs()[0].String(), dns: srv.DNS.UDPAddr(0)}, stop
}

func (in *instance) get(path string) (int, string) {
	in.t.Helper()
	res, err := http.Get(in.url + path)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// storeUp returns the store_up metric line's value.
func (in *instance) storeUp() string {
	in.t.Helper()
	_, body := in.get("/metrics")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "strictacme_serve_store_up "); ok {
			return v
		}
	}
	in.t.Fatal("no store_up metric")
	return ""
}

// expectRefused checks that the store is reported down everywhere and that
// no write is acknowledged.
func expectRefused(t *testing.T, in *instance, a acct, txt string) {
	t.Helper()
	if code, body := in.update(a, txt); code != 503 || !strings.Contains(body, `"error": "db_error"`) || !strings.Contains(body, "deleted or replaced") {
		t.Errorf("update: %d %s, want 503 db_error naming the file", code, body)
	}
	if code, body := in.post("/register", "", nil); code != 503 {
		t.Errorf("register: %d %s, want 503", code, body)
	}
	if code, body := in.get("/health"); code != 503 || !strings.Contains(body, "deleted or replaced") {
		t.Errorf("health: %d %s, want 503", code, body)
	}
	if v := in.storeUp(); v != "0" {
		t.Errorf("store_up = %s, want 0", v)
	}
}

// The SQLite file is deleted, or replaced by another file (a backup put in
// place with mv), while the server runs. SQLite would go on writing into the
// unreachable file and everything written there would be gone at the next
// start; instead every write is refused with 503 and /health and store_up
// say so, while DNS keeps answering from memory. When the file is back
// writes are taken again, and after a restart every acknowledged write is
// there.
func TestSQLiteFileDeletedOrReplacedWhileServing(t *testing.T) {
	for _, tc := range []struct {
		name string
		// break_ takes the file away; restore (if not nil) puts the opened
		// file back while the server runs.
		break_  func(t *testing.T, path string)
		restore func(t *testing.T, path string)
	}{
		{
			name: "deleted, then moved back",
			break_: func(t *testing.T, path string) {
				// A second name keeps the file so it can come back.
				must(t, os.Link(path, path+".kept"))
				must(t, os.Remove(path))
			},
			restore: func(t *testing.T, path string) { must(t, os.Rename(path+".kept", path)) },
		},
		{
			name: "deleted for good",
			break_: func(t *testing.T, path string) {
				must(t, os.Remove(path))
			},
		},
		{
			name: "replaced by a copy",
			break_: func(t *testing.T, path string) {
				// A consistent copy of the file as it is now, moved over it.
				db, err := sql.Open("sqlite", "file:"+path+"?"+store.SQLitePragmas)
				must(t, err)
				_, err = db.Exec(`VACUUM INTO ?`, path+".copy")
				db.Close()
				must(t, err)
				must(t, os.Rename(path+".copy", path))
			},
		},
		{
			name: "replaced, then the original moved back",
			break_: func(t *testing.T, path string) {
				must(t, os.Rename(path, path+".orig"))
				must(t, os.WriteFile(path, nil, 0o600))
			},
			restore: func(t *testing.T, path string) { must(t, os.Rename(path+".orig", path)) },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/serve.db"
			cfg := fmt.Sprintf(testConfig, "sqlite", path)
			in, stop := startStoppable(t, cfg)
			a := in.register()
			acked := []string{}
			for i := range 2 {
				if code, body := in.update(a, value(i)); code != 200 {
					t.Fatalf("update %d: %d %s", i, code, body)
				}
				acked = append(acked, value(i))
			}
			if code, _ := in.get("/health"); code != 200 {
				t.Fatalf("health before: %d", code)
			}

			tc.break_(t, path)
			expectRefused(t, in, a, value(10))
			expectRefused(t, in, a, value(11)) // stays refused
			if _, vals := in.txt(a.Fulldomain); !sameValues(vals, acked) {
				t.Errorf("DNS while the file is gone: %v, want %v", vals, acked)
			}

			if tc.restore == nil {
				// Restart on whatever is at the path now. The writes acknowledged
				// before the file was taken away are in the copy, or gone with
				// the deleted file; nothing acknowledged afterwards is missing
				// because nothing was acknowledged.
				stop()
				in2, _ := startStoppable(t, cfg)
				_, vals := in2.txt(a.Fulldomain)
				if strings.Contains(tc.name, "copy") && !sameValues(vals, acked) {
					t.Errorf("after restart on the copy: %v, want %v", vals, acked)
				}
				if slices.Contains(vals, value(10)) || slices.Contains(vals, value(11)) {
					t.Errorf("a refused value is served after restart: %v", vals)
				}
				if code, body := in2.get("/health"); code != 200 {
					t.Errorf("health after restart: %d %s", code, body)
				}
				return
			}

			tc.restore(t, path)
			if code, body := in.get("/health"); code != 200 {
				t.Fatalf("health with the file back: %d %s", code, body)
			}
			if v := in.storeUp(); v != "1" {
				t.Errorf("store_up with the file back = %s", v)
			}
			if code, body := in.update(a, value(2)); code != 200 {
				t.Fatalf("update with the file back: %d %s", code, body)
			}
			acked = append(acked, value(2))
			b := in.register()
			if code, body := in.update(b, value(3)); code != 200 {
				t.Fatalf("update of a new account: %d %s", code, body)
			}

			stop()
			in2, _ := startStoppable(t, cfg)
			if _, vals := in2.txt(a.Fulldomain); !sameValues(vals, acked) {
				t.Errorf("after restart: %v, want every acknowledged value %v", vals, acked)
			}
			if _, vals := in2.txt(b.Fulldomain); !slices.Equal(vals, []string{value(3)}) {
				t.Errorf("account registered with the file back, after restart: %v", vals)
			}
			if code, body := in2.update(b, value(4)); code != 200 {
				t.Errorf("its credentials after restart: %d %s", code, body)
			}
		})
	}
}

// Another process holds the SQLite write lock: /health and store_up report
// the store down (writes would wait and fail), and up again once it is
// released.
func TestSQLiteWriteLockedHealth(t *testing.T) {
	path := t.TempDir() + "/serve.db"
	in := start(t, fmt.Sprintf(testConfig, "sqlite", path), nil)
	if code, _ := in.get("/health"); code != 200 {
		t.Fatalf("health: %d", code)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+store.SQLitePragmas)
	must(t, err)
	defer db.Close()
	conn, err := db.Conn(t.Context())
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), `BEGIN IMMEDIATE`)
	must(t, err)
	if code, body := in.get("/health"); code != 503 || !strings.Contains(body, "db_unavailable") {
		t.Errorf("health while write-locked: %d %s", code, body)
	}
	if v := in.storeUp(); v != "0" {
		t.Errorf("store_up while write-locked = %s", v)
	}
	_, err = conn.ExecContext(t.Context(), `ROLLBACK`)
	must(t, err)
	if code, body := in.get("/health"); code != 200 {
		t.Errorf("health after the lock is released: %d %s", code, body)
	}
	if v := in.storeUp(); v != "1" {
		t.Errorf("store_up after the lock is released = %s", v)
	}
}

// sameValues reports whether a and b hold the same values in any order.
func sameValues(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
