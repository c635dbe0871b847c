package store

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// JournalEntry is one challenge record that was (or was about to be) written
// through a provider and has not been confirmed removed.
type JournalEntry struct {
	// Provider names the provider configuration that wrote the record
	// (e.g. "namecheap", or "namecheap@example.com." for a per-zone one).
	Provider string    `json:"provider"`
	Zone     string    `json:"zone"`
	FQDN     string    `json:"fqdn"`
	Type     string    `json:"type"`
	Value    string    `json:"value"`
	Written  time.Time `json:"written"`
}

// Journal is the list of challenge records to clean up, kept in
// <root>/journal.json. An entry is added before the provider write (so a
// crash after the write still leaves a trace) and removed after a confirmed
// delete; the next run deletes leftovers, exactly these values and nothing
// else (case NC07).
type Journal struct {
	path string
	mu   sync.Mutex
}

// Journal returns the store's journal.
func (s *Store) Journal() *Journal {
	return &Journal{path: filepath.Join(s.Root, "journal.json")}
}

func (j *Journal) load() ([]JournalEntry, error) {
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var es []JournalEntry
	if len(data) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(data, &es); err != nil {
		return nil, err
	}
	return es, nil
}

func (j *Journal) save(es []JournalEntry) error {
	if es == nil {
		es = []JournalEntry{}
	}
	data, err := json.MarshalIndent(es, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(j.path, append(data, '\n'), 0o600)
}

// Entries returns every entry.
func (j *Journal) Entries() ([]JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.load()
}

// Add records entries (durably) before they are written.
func (j *Journal) Add(add ...JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	es, err := j.load()
	if err != nil {
		return err
	}
	for _, a := range add {
		if !containsEntry(es, a) {
			es = append(es, a)
		}
	}
	return j.save(es)
}

// Remove deletes entries (matched by provider, zone, FQDN, type and value).
func (j *Journal) Remove(rm ...JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	es, err := j.load()
	if err != nil {
		return err
	}
	out := es[:0]
	for _, e := range es {
		if !containsEntry(rm, e) {
			out = append(out, e)
		}
	}
	return j.save(out)
}

func containsEntry(es []JournalEntry, x JournalEntry) bool {
	for _, e := range es {
		if e.Provider == x.Provider && e.Zone == x.Zone && e.FQDN == x.FQDN && e.Type == x.Type && e.Value == x.Value {
			return true
		}
	}
	return false
}
