package view

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// shared opens one SQLite file twice: the follower's instance and another
// instance of the server writing to the same database.
func shared(t *testing.T) (mine, other store.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "challenges.db")
	ctx := context.Background()
	a, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func register(t *testing.T, s store.Store, user, sub string) {
	t.Helper()
	if err := s.CreateAccount(context.Background(), store.Account{Username: user, PasswordHash: []byte("x"), Subdomain: sub, Created: t0}); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, s store.Store, sub, text string) {
	t.Helper()
	if err := s.PutTXT(context.Background(), sub, store.Value{Text: text, Updated: t0, Expires: t0.Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
}

// unsteady is a store whose Changes can fail, or hide sequence numbers as
// a transaction that took a number but commits later does on PostgreSQL.
type unsteady struct {
	store.Store
	mu   sync.Mutex
	fail bool
	hide map[int64]bool
	asks [][]int64 // the also argument of each Changes call
}

func (u *unsteady) Changes(ctx context.Context, after int64, also []int64) ([]store.Change, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.asks = append(u.asks, slices.Clone(also))
	if u.fail {
		return nil, store.ErrUnavailable
	}
	cs, err := u.Store.Changes(ctx, after, also)
	var out []store.Change
	for _, c := range cs {
		if !u.hide[c.Seq] {
			out = append(out, c)
		}
	}
	return out, err
}

func (u *unsteady) Load(ctx context.Context, now time.Time, each func(string, []store.Value)) (int64, error) {
	u.mu.Lock()
	fail := u.fail
	u.mu.Unlock()
	if fail {
		return 0, store.ErrUnavailable
	}
	return u.Store.Load(ctx, now, each)
}

const (
	subA = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
	subB = "1c8e1f2a-3b4c-4d5e-8f60-718293a4b5c6"
)

func newFollower(s store.Store, now *time.Time) *Follower {
	clock := func() time.Time { return *now }
	return &Follower{Store: s, View: New(clock), Now: clock}
}

// A value another instance writes, and an account it deletes, reach this
// instance's view at the next poll.
func TestFollowerSeesWritesOfAnotherInstance(t *testing.T) {
	mine, other := shared(t)
	now := t0
	f := newFollower(mine, &now)
	ctx := context.Background()
	register(t, other, "u-a", subA)
	if err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if txt, ok := f.View.Lookup(subA); !ok || txt != nil {
		t.Fatalf("loaded account: %v %v", txt, ok)
	}
	put(t, other, subA, "value-1")
	if txt, _ := f.View.Lookup(subA); txt != nil {
		t.Fatalf("seen before the poll: %v", txt)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if txt, _ := f.View.Lookup(subA); !slices.Equal(txt, []string{"value-1"}) {
		t.Fatalf("after the poll: %v", txt)
	}
	if err := other.DeleteAccount(ctx, "u-a"); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.View.Lookup(subA); ok {
		t.Fatal("a deleted account is still served")
	}
}

// A change whose sequence number was skipped (committed after a later
// one) is asked for again on the following polls and applied when it
// shows; after gapWait it is no longer asked for.
func TestFollowerRechecksASkippedSequenceNumber(t *testing.T) {
	mine, other := shared(t)
	u := &unsteady{Store: mine, hide: map[int64]bool{}}
	now := t0
	f := newFollower(u, &now)
	ctx := context.Background()
	register(t, other, "u-a", subA)
	register(t, other, "u-b", subB)
	if err := f.Load(ctx); err != nil {
		t.Fatal(err)
	}
	put(t, other, subA, "late")
	put(t, other, subB, "early")
	cs, err := mine.Changes(ctx, f.cursor, nil)
	if err != nil || len(cs) != 2 {
		t.Fatalf("changes %v %v", cs, err)
	}
	late := cs[0].Seq
	u.hide[late] = true
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if txt, _ := f.View.Lookup(subB); !slices.Equal(txt, []string{"early"}) {
		t.Fatalf("the later change: %v", txt)
	}
	if txt, _ := f.View.Lookup(subA); txt != nil {
		t.Fatalf("the hidden change applied: %v", txt)
	}
	delete(u.hide, late)
	now = now.Add(time.Second)
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if ask := u.asks[len(u.asks)-1]; !slices.Equal(ask, []int64{late}) {
		t.Fatalf("asked again for %v, want [%d]", ask, late)
	}
	if txt, _ := f.View.Lookup(subA); !slices.Equal(txt, []string{"late"}) {
		t.Fatalf("the late change: %v", txt)
	}

	// A gap that never fills is given up after gapWait.
	put(t, other, subA, "never")
	put(t, other, subB, "seen")
	cs, _ = mine.Changes(ctx, f.cursor, nil)
	u.hide[cs[0].Seq] = true
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(gapWait + time.Second)
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if ask := u.asks[len(u.asks)-1]; len(ask) != 0 {
		t.Fatalf("still asking for %v after %s", ask, gapWait)
	}
}

// While the store is down the view keeps answering with what it has and
// the follower reports itself unhealthy; the next poll that reaches the
// store makes it healthy again.
func TestFollowerKeepsServingWhileTheStoreIsDown(t *testing.T) {
	mine, other := shared(t)
	u := &unsteady{Store: mine}
	now := t0
	f := newFollower(u, &now)
	ctx := context.Background()
	register(t, other, "u-a", subA)
	put(t, other, subA, "kept")
	if err := f.Load(ctx); err != nil || !f.Healthy() {
		t.Fatal(err, f.Healthy())
	}
	u.fail = true
	if err := f.Poll(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("poll while down: %v", err)
	}
	if f.Healthy() {
		t.Error("healthy while the store is down")
	}
	if txt, _ := f.View.Lookup(subA); !slices.Equal(txt, []string{"kept"}) {
		t.Fatalf("served while down: %v", txt)
	}
	u.fail = false
	if err := f.Poll(ctx); err != nil || !f.Healthy() {
		t.Fatalf("after the outage: %v healthy=%v", err, f.Healthy())
	}
}
