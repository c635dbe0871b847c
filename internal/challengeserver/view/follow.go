package view

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/strictacme/strictacme/internal/challengeserver/store"
)

// gapWait is how long a skipped change sequence number is re-checked: on
// PostgreSQL a transaction can commit after one that took a later number.
const gapWait = 10 * time.Second

// Follower keeps a View in step with a Store: Load copies everything, Poll
// applies the changes written since (by this or any other instance). Safe for
// concurrent use; Polls are serialised.
type Follower struct {
	Store store.Store
	View  *View
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Interval between polls in Run; zero means one second.
	Interval time.Duration
	// Resync is how often Run reloads everything as a safety net; zero
	// means ten minutes.
	Resync time.Duration
	// Log receives store failures (nil: slog.Default()).
	Log *slog.Logger

	mu     sync.Mutex
	cursor int64
	gaps   map[int64]time.Time
	synced time.Time
	ok     bool
}

func (f *Follower) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Load replaces the View with the Store's full content.
func (f *Follower) Load(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := newBuilder()
	seq, err := f.Store.Load(ctx, f.now(), b.add)
	if err != nil {
		f.ok = false
		return err
	}
	f.View.swap(b)
	f.cursor = seq
	f.gaps = nil
	f.synced = f.now()
	f.ok = true
	return nil
}

// Poll applies the changes since the last Load or Poll.
func (f *Follower) Poll(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	also := make([]int64, 0, len(f.gaps))
	for seq, seen := range f.gaps {
		if now.Sub(seen) > gapWait {
			delete(f.gaps, seq)
			continue
		}
		also = append(also, seq)
	}
	changes, err := f.Store.Changes(ctx, f.cursor, also)
	if err != nil {
		f.ok = false
		return err
	}
	if len(changes) == 0 {
		f.ok = true
		return nil
	}
	set := make(map[string]bool)
	var names []string
	for _, c := range changes {
		if !set[c.Subdomain] {
			set[c.Subdomain] = true
			names = append(names, c.Subdomain)
		}
	}
	subs, err := f.Store.Subdomains(ctx, names, now)
	if err != nil {
		f.ok = false
		return err
	}
	for _, n := range names {
		if vals, ok := subs[n]; ok {
			f.View.Set(n, vals)
		} else {
			f.View.Delete(n)
		}
	}
	for _, c := range changes {
		if f.gaps != nil {
			delete(f.gaps, c.Seq)
		}
		if c.Seq > f.cursor {
			for s := f.cursor + 1; s < c.Seq && c.Seq-s < 1000; s++ {
				if f.gaps == nil {
					f.gaps = make(map[int64]time.Time)
				}
				f.gaps[s] = now
			}
			f.cursor = c.Seq
		}
	}
	f.ok = true
	return nil
}

// Healthy reports whether the last Load or Poll reached the store.
func (f *Follower) Healthy() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ok
}

// Run polls every Interval and whenever wake receives, until ctx ends. A
// failed poll is logged once per outage; the View keeps serving what it has.
func (f *Follower) Run(ctx context.Context, wake <-chan struct{}) {
	interval := f.Interval
	if interval <= 0 {
		interval = time.Second
	}
	resync := f.Resync
	if resync <= 0 {
		resync = 10 * time.Minute
	}
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		var err error
		f.mu.Lock()
		full := failing || f.now().Sub(f.synced) > resync
		f.mu.Unlock()
		if full {
			// A full load of many accounts on a busy machine takes longer
			// than a poll may; the store bounds it (store.LoadTimeout).
			err = f.Load(ctx)
		} else {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = f.Poll(pctx)
			cancel()
		}
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			log.Error("store unavailable; DNS keeps answering from memory", "err", err)
			failing = true
		case err == nil && failing:
			log.Info("store reachable again")
			failing = false
		}
	}
}
