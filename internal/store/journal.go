package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// JournalDamagedError says journal.json could not be read: it was cut
// short (a full disk, an editor) or is not a journal at all. The entries
// read before the damage (Recovered) were saved as the new journal, so the
// next run removes those records; the damaged file was moved to MovedTo,
// because it may list records that no run will remove now.
type JournalDamagedError struct {
	Path      string
	MovedTo   string // "" if it could not be moved; the journal is then unchanged
	Recovered []JournalEntry
	Err       error // the decoding error
	// Checked marks the answer of Check: nothing was repaired or moved.
	Checked bool
}

func (e *JournalDamagedError) Error() string {
	if e.Checked {
		return fmt.Sprintf("journal %s is damaged (%v); a run stops here (exit 9): it keeps the challenge records that can be read and moves the damaged file aside, for you to remove from your DNS zones any challenge TXT record listed only there", e.Path, e.Err)
	}
	if e.MovedTo == "" {
		return fmt.Sprintf("journal %s is damaged (%v), and repairing it failed; move it aside, remove from your DNS zones any challenge TXT record it lists, and run again", e.Path, e.Err)
	}
	return fmt.Sprintf("journal %s was damaged (%v): the %d challenge record(s) that could be read are kept in it, and the next run removes them from your DNS zones; the damaged file is now %s: remove from your DNS zones any challenge TXT record listed there and not in %s, then delete it",
		e.Path, e.Err, len(e.Recovered), e.MovedTo, filepath.Base(e.Path))
}

func (e *JournalDamagedError) Unwrap() error { return e.Err }

func (j *Journal) load() ([]JournalEntry, error) {
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var es []JournalEntry
	if err := json.Unmarshal(data, &es); err != nil {
		return nil, j.salvage(data, err)
	}
	return es, nil
}

// salvage keeps the entries of a damaged journal that decode, in order up
// to the damage, as the journal, and moves the damaged file aside. save
// never writes an empty file, so an empty journal.json was cut short too.
func (j *Journal) salvage(data []byte, cause error) error {
	if len(data) == 0 {
		cause = errors.New("the file is empty")
	}
	e := &JournalDamagedError{Path: j.path, Err: cause}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err == nil && t == json.Delim('[') {
		for dec.More() {
			var x JournalEntry
			if dec.Decode(&x) != nil {
				break
			}
			if x.Provider != "" && x.Zone != "" && x.FQDN != "" && x.Value != "" {
				e.Recovered = append(e.Recovered, x)
			}
		}
	}
	moved := fmt.Sprintf("%s.damaged-%s", j.path, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(j.path, moved); err != nil {
		return e
	}
	if err := j.save(e.Recovered); err != nil {
		_ = os.Rename(moved, j.path)
		return e
	}
	e.MovedTo = moved
	return e
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

// Check reads the journal without changing anything (a dry run): nil when
// it is readable or absent, a *JournalDamagedError (Checked) when a run
// would find it damaged, else the read error.
func (j *Journal) Check() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var es []JournalEntry
	if len(data) == 0 {
		return &JournalDamagedError{Path: j.path, Err: errors.New("the file is empty"), Checked: true}
	}
	if err := json.Unmarshal(data, &es); err != nil {
		return &JournalDamagedError{Path: j.path, Err: err, Checked: true}
	}
	return nil
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
