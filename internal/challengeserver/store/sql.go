package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Engines accepted by Open. "sqlite3" is accepted as an alias of "sqlite"
// (acme-dns v1 configs; acme-dns v2.0.0–2.0.2 refused it:
// https://github.com/acme-dns/acme-dns/issues/403).
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// DefaultTimeout bounds every database operation whose context has no
// earlier deadline, except Load.
const DefaultTimeout = 5 * time.Second

// LoadTimeout bounds Load when its context has no earlier deadline: reading
// 100,000 accounts takes about half a second of CPU, many times that on a
// machine busy with other work, and a server that gives up on its first
// Load does not start.
const LoadTimeout = 2 * time.Minute

// notifyChannel is the PostgreSQL LISTEN/NOTIFY channel every write signals.
const notifyChannel = "strictacme_changes"

// SQL is the Store on database/sql, for SQLite (modernc.org/sqlite) and
// PostgreSQL (pgx). Create it with Open, OpenSQLite or OpenPostgres.
type SQL struct {
	db      *sql.DB
	engine  string
	dsn     string
	timeout time.Duration
	// path and file identify the SQLite file this handle has open; a write
	// is acknowledged only while path still names that file (checkFile).
	path string
	file os.FileInfo
}

var _ Store = (*SQL)(nil)

// Open opens the store of engine (SQLite, "sqlite3" or Postgres, "postgresql")
// at connection (a file path for SQLite, a postgres:// URL or key=value DSN
// for PostgreSQL) and migrates its schema to the current version.
func Open(ctx context.Context, engine, connection string) (*SQL, error) {
	switch strings.ToLower(engine) {
	case SQLite, "sqlite3", "":
		return OpenSQLite(ctx, connection)
	case Postgres, "postgresql", "pgx":
		return OpenPostgres(ctx, connection)
	}
	return nil, fmt.Errorf("store: unknown engine %q (want %q or %q)", engine, SQLite, Postgres)
}

// SQLitePragmas are the connection settings of every SQLite handle:
//
//   - journal_mode(WAL): readers (the view's polls) never block the writer;
//   - synchronous(FULL): the WAL is synced to disk at every commit, so a
//     write the API has acknowledged survives a power loss, not only a
//     process crash (with NORMAL, commits since the last checkpoint may be
//     rolled back after a power loss: https://sqlite.org/pragma.html#pragma_synchronous);
//   - busy_timeout(5000): a writer waits up to 5 s for another one (a second
//     instance on the same file) before the write fails with ErrUnavailable;
//   - cache_size(-SQLiteCacheKiB): see SQLiteCacheKiB.
const SQLitePragmas = "_pragma=cache_size(-256)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"

// SQLiteCacheKiB is the SQLite page cache of the server's connection, in
// KiB, instead of SQLite's default of 2,000. DNS is answered from the
// in-memory view and never reads the database; the API's writes and the
// polls touch a few pages per request, whose interior pages fit (at
// 100,000 accounts the B-trees have about a hundred), and the rest comes
// from the operating system's file cache, which the private cache would
// only duplicate. After the start-up load filled it, the default cache
// kept about 3 MB more resident for the server's lifetime. SQLitePragmas
// sets it (written out there, so that it stays a constant).
const SQLiteCacheKiB = 256

// OpenSQLite opens (creating if needed) the SQLite database file at path
// with SQLitePragmas and migrates it. The directory must be writable (SQLite
// keeps its journal next to the file,
// https://github.com/acme-dns/acme-dns/issues/88).
//
// The file's identity (device and inode) is recorded: when path is deleted
// or names another file later, every write and Ping fails with
// ErrFileChanged until path names the opened file again.
func OpenSQLite(ctx context.Context, path string) (*SQL, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	if path != ":memory:" {
		dir := filepath.Dir(path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: SQLite directory %s: %w (create it, writable by this user)", dir, err)
		}
	}
	dsn := "file:" + path + "?" + SQLitePragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// One connection: SQLite serialises writers anyway and :memory: needs it.
	db.SetMaxOpenConns(1)
	s := &SQL{db: db, engine: SQLite, dsn: dsn, timeout: DefaultTimeout}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if path != ":memory:" {
		// The database holds password hashes: owner only.
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			_ = os.Chmod(f, 0o600)
		}
		fi, err := os.Stat(path)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		s.path, s.file = path, fi
	}
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database at dsn and migrates it.
// Several server instances may share one database, as acme-dns users run it
// (https://github.com/acme-dns/acme-dns/issues/262).
func OpenPostgres(ctx context.Context, dsn string) (*SQL, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, redact(err, dsn))
	}
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(2)
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	s := &SQL{db: db, engine: Postgres, dsn: dsn, timeout: DefaultTimeout}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Engine returns SQLite or Postgres.
func (s *SQL) Engine() string { return s.engine }

// DB returns the underlying database handle (tests, import).
func (s *SQL) DB() *sql.DB { return s.db }

// redact removes a DSN (which may hold a password) from an error message.
func redact(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, "<dsn>")
	}
	return errors.New(msg)
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (s *SQL) q(query string) string {
	if s.engine != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *SQL) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.timeout)
}

// fail wraps a database error in ErrUnavailable; nil stays nil.
func (s *SQL) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, redact(err, s.dsn))
}

func isUnique(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// tx runs f in a transaction and records a change of subdomain in it.
func (s *SQL) tx(ctx context.Context, op, subdomain string, f func(tx *sql.Tx) error) error {
	return s.txChanges(ctx, op, func(tx *sql.Tx) ([]string, error) {
		return []string{subdomain}, f(tx)
	})
}

// txChanges runs f in a transaction and records a change of each subdomain
// f returns, in the same transaction.
//
// The SQLite file is checked before the transaction and again after the
// commit: a write into a file that was deleted or replaced meanwhile is
// reported as failed (ErrFileChanged), never acknowledged.
//
// On PostgreSQL the changes are announced with NOTIFY (delivered at
// commit), and the commit waits at least for the local WAL flush even where
// the server's default is synchronous_commit = off (stricter settings are
// kept), so an acknowledged write survives a database crash.
func (s *SQL) txChanges(ctx context.Context, op string, f func(tx *sql.Tx) ([]string, error)) error {
	if err := s.checkFile(); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if s.engine == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'`); err != nil {
			return s.fail(op, err)
		}
	}
	subs, err := f(tx)
	if err != nil {
		return s.fail(op, err)
	}
	if err := s.recordChanges(ctx, tx, subs); err != nil {
		return s.fail(op, err)
	}
	if s.engine == Postgres && len(subs) > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, subs[0]); err != nil {
			return s.fail(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	return s.checkFile()
}

// recordChanges inserts one change row per subdomain, with one prepared
// statement when there are many (an import batch).
func (s *SQL) recordChanges(ctx context.Context, tx *sql.Tx, subs []string) error {
	query := s.q(`INSERT INTO changes(subdomain, at) VALUES (?, ?)`)
	now := ms(time.Now())
	if len(subs) == 1 {
		_, err := tx.ExecContext(ctx, query, subs[0], now)
		return err
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, sub := range subs {
		if _, err := st.ExecContext(ctx, sub, now); err != nil {
			return err
		}
	}
	return nil
}

// checkFile reports ErrFileChanged when the SQLite path no longer names the
// file this handle opened: deleted (rm), or replaced (mv, a restore from a
// backup). SQLite keeps writing into the open, now unreachable file, and
// everything written there is gone at the next start; acme-dns answers 200
// in that state. One stat per call.
func (s *SQL) checkFile() error {
	if s.file == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %w: %s was deleted while in use; writes are refused until that file is back at this path (or restart to start from the file then there)", ErrUnavailable, ErrFileChanged, s.path)
	case err != nil:
		return fmt.Errorf("%w: database file: %v", ErrUnavailable, err)
	case !os.SameFile(fi, s.file):
		return fmt.Errorf("%w: %w: %s was replaced by another file while in use; writes are refused until the opened file is back at this path (or restart to use the new one)", ErrUnavailable, ErrFileChanged, s.path)
	}
	return nil
}

func encodeAllow(p []netip.Prefix) string {
	out := make([]string, 0, len(p))
	for _, x := range p {
		out = append(out, x.String())
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// decodeAllow parses the AllowFrom column: a JSON array of CIDR strings
// (acme-dns format, entries may carry [ ] around IPv6). Invalid entries are
// skipped; if every entry is invalid the result has one entry that matches
// nothing, so a hand-edited row fails closed (unlike acme-dns, whose
// AllowedFrom in pkg/acmedns/acmetxt.go treats it as no restriction).
func decodeAllow(s string) []netip.Prefix {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil
	}
	var raw []string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return []netip.Prefix{{}}
	}
	var out []netip.Prefix
	for _, r := range raw {
		p, err := ParsePrefix(r)
		if err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 && len(raw) > 0 {
		return []netip.Prefix{{}}
	}
	return out
}

// ParsePrefix parses one allowfrom entry the way acme-dns does
// (pkg/acmedns/cidrslice.go in https://github.com/acme-dns/acme-dns):
// a CIDR, with [ and ] removed, normalised to its network address
// ("[::1]/128" → "::1/128", "10.1.2.3/8" → "10.0.0.0/8"). A bare address is
// an error.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.NewReplacer("[", "", "]", "").Replace(strings.TrimSpace(s))
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}

// CreateAccount implements Store.
func (s *SQL) CreateAccount(ctx context.Context, a Account) error {
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	err := s.tx(ctx, "create account", a.Subdomain, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO accounts(username, password_hash, subdomain, allowfrom, created_at) VALUES (?, ?, ?, ?, ?)`),
			a.Username, string(a.PasswordHash), a.Subdomain, encodeAllow(a.AllowFrom), ms(a.Created))
		if isUnique(err) {
			return ErrConflict
		}
		return err
	})
	return err
}

// Account implements Store.
func (s *SQL) Account(ctx context.Context, username string) (Account, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var a Account
	var hash, allow string
	var created int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT username, password_hash, subdomain, allowfrom, created_at FROM accounts WHERE username = ?`), username).
		Scan(&a.Username, &hash, &a.Subdomain, &allow, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, s.fail("read account", err)
	}
	a.PasswordHash = []byte(hash)
	a.AllowFrom = decodeAllow(allow)
	a.Created = fromMS(created)
	return a, nil
}

// DeleteAccount implements Store.
func (s *SQL) DeleteAccount(ctx context.Context, username string) error {
	a, err := s.Account(ctx, username)
	if err != nil {
		return err
	}
	return s.tx(ctx, "delete account", a.Subdomain, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM accounts WHERE username = ?`), username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE subdomain = ?`), a.Subdomain)
		return err
	})
}

func (s *SQL) updateAccount(ctx context.Context, op, username, column, value string) error {
	a, err := s.Account(ctx, username)
	if err != nil {
		return err
	}
	return s.tx(ctx, op, a.Subdomain, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE accounts SET `+column+` = ? WHERE username = ?`), value, username)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// SetPassword implements Store.
func (s *SQL) SetPassword(ctx context.Context, username string, hash []byte) error {
	return s.updateAccount(ctx, "rotate key", username, "password_hash", string(hash))
}

// SetAllowFrom implements Store.
func (s *SQL) SetAllowFrom(ctx context.Context, username string, allow []netip.Prefix) error {
	return s.updateAccount(ctx, "set allowfrom", username, "allowfrom", encodeAllow(allow))
}

// PutTXT implements Store.
func (s *SQL) PutTXT(ctx context.Context, subdomain string, v Value, limit int) error {
	return s.tx(ctx, "update txt", subdomain, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO txt_values(subdomain, value, updated_at, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (subdomain, value) DO UPDATE SET updated_at = excluded.updated_at, expires_at = excluded.expires_at`),
			subdomain, v.Text, ms(v.Updated), ms(v.Expires)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE subdomain = ? AND expires_at <= ?`), subdomain, ms(v.Updated)); err != nil {
			return err
		}
		if limit > 0 {
			_, err := tx.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE subdomain = ? AND value NOT IN
				(SELECT value FROM txt_values WHERE subdomain = ? ORDER BY updated_at DESC, value DESC LIMIT ?)`), subdomain, subdomain, limit)
			return err
		}
		return nil
	})
}

// DeleteTXT implements Store.
func (s *SQL) DeleteTXT(ctx context.Context, subdomain, text string) (int, error) {
	var n int64
	err := s.tx(ctx, "delete txt", subdomain, func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if text == "" {
			res, err = tx.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE subdomain = ?`), subdomain)
		} else {
			res, err = tx.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE subdomain = ? AND value = ?`), subdomain, text)
		}
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// Load implements Store. The live values are read first (few in a server
// whose clients delete them, all of them right after an import) into one
// slice ordered by subdomain, then the accounts are streamed and each
// finds its values by binary search; joining the two in SQL instead costs
// an index search per account, several times slower at 100,000 accounts,
// and a map from subdomain to values costs twice the memory and time.
func (s *SQL) Load(ctx context.Context, now time.Time, each func(sub string, vals []Value)) (int64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, LoadTimeout)
		defer cancel()
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM changes`).Scan(&seq); err != nil {
		return 0, s.fail("load", err)
	}
	// "+expires_at": a table scan, not the expiry index, which would cost a
	// second lookup per row when (as at start-up) most values are live.
	// The count (expired values too: an upper bound) sizes the slice once;
	// grown row by row it was written twice over and its abandoned
	// halves were a quarter of the load's memory.
	var rows0 int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM txt_values`).Scan(&rows0); err != nil {
		return 0, s.fail("load", err)
	}
	live, err := s.liveValues(ctx, rows0, s.q(`SELECT subdomain, value, updated_at, expires_at FROM txt_values WHERE +expires_at > ?`), ms(now))
	if err != nil {
		return 0, s.fail("load", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT subdomain FROM accounts`)
	if err != nil {
		return 0, s.fail("load", err)
	}
	var vals []Value
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			rows.Close()
			return 0, s.fail("load", err)
		}
		vals = vals[:0]
		i, _ := slices.BinarySearchFunc(live, sub, func(r liveValue, sub string) int { return strings.Compare(r.sub, sub) })
		for ; i < len(live) && live[i].sub == sub; i++ {
			r := live[i]
			vals = append(vals, Value{Text: r.text, Updated: fromMS(r.updated), Expires: fromMS(r.expires)})
		}
		sortValues(vals)
		each(sub, vals)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, s.fail("load", err)
	}
	zone := map[string][]Value{}
	if err := s.zoneValues(ctx, zone, now, nil); err != nil {
		return 0, s.fail("load", err)
	}
	for k, vals := range zone {
		each(k, vals)
	}
	return seq.Int64, nil
}

// liveValue is one row of txt_values as Load holds it.
type liveValue struct {
	sub, text        string
	updated, expires int64 // Unix milliseconds
}

// liveValues returns the rows of query (subdomain, value, updated_at,
// expires_at) ordered by subdomain: as they come when the table is in that
// order (SQLite after an import, which writes in subdomain order), else
// sorted here.
func (s *SQL) liveValues(ctx context.Context, sizeHint int, query string, args ...any) ([]liveValue, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]liveValue, 0, sizeHint)
	for rows.Next() {
		var r liveValue
		if err := rows.Scan(&r.sub, &r.text, &r.updated, &r.expires); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].sub == r.sub {
			r.sub = out[n-1].sub // one string per subdomain held, not one per value
		}
		if len(out) == cap(out) {
			// Double: append grows a large slice by a quarter at a time,
			// which at 200,000 values writes five times their size.
			out = slices.Grow(out, max(1024, len(out)))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	bySub := func(a, b liveValue) int { return strings.Compare(a.sub, b.sub) }
	if !slices.IsSortedFunc(out, bySub) {
		slices.SortStableFunc(out, bySub)
	}
	return out, nil
}

// sortValues orders vals oldest first: by Updated, then by text, the
// order PutTXT keeps the newest by.
func sortValues(vals []Value) {
	slices.SortFunc(vals, func(a, b Value) int {
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.Text, b.Text)
	})
}

// values adds the rows of query (subdomain, value, updated_at, expires_at)
// to the subdomains already in out.
func (s *SQL) values(ctx context.Context, out map[string][]Value, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sub, text string
		var up, exp int64
		if err := rows.Scan(&sub, &text, &up, &exp); err != nil {
			return err
		}
		if vs, ok := out[sub]; ok {
			out[sub] = append(vs, Value{Text: text, Updated: fromMS(up), Expires: fromMS(exp)})
		}
	}
	return rows.Err()
}

// Subdomains implements Store.
func (s *SQL) Subdomains(ctx context.Context, names []string, now time.Time) (map[string][]Value, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	out := make(map[string][]Value, len(names))
	var zone []string
	subs := make([]string, 0, len(names))
	for _, n := range names {
		if z, ok := strings.CutPrefix(n, ZonePrefix); ok {
			zone = append(zone, z)
		} else {
			subs = append(subs, n)
		}
	}
	names = subs
	if err := s.zoneValues(ctx, out, now, zone); err != nil {
		return nil, s.fail("read zone names", err)
	}
	for len(names) > 0 {
		batch := names
		if len(batch) > 500 {
			batch = batch[:500]
		}
		names = names[len(batch):]
		ph := strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",")
		args := make([]any, len(batch))
		for i, n := range batch {
			args[i] = n
		}
		rows, err := s.db.QueryContext(ctx, s.q(`SELECT subdomain FROM accounts WHERE subdomain IN (`+ph+`)`), args...)
		if err != nil {
			return nil, s.fail("read subdomains", err)
		}
		for rows.Next() {
			var sub string
			if err := rows.Scan(&sub); err != nil {
				rows.Close()
				return nil, s.fail("read subdomains", err)
			}
			out[sub] = []Value{}
		}
		rows.Close()
		if err := s.values(ctx, out, s.q(`SELECT subdomain, value, updated_at, expires_at FROM txt_values WHERE expires_at > ? AND subdomain IN (`+ph+`) ORDER BY updated_at, value`), append([]any{ms(now)}, args...)...); err != nil {
			return nil, s.fail("read subdomains", err)
		}
	}
	return out, nil
}

// Changes implements Store.
func (s *SQL) Changes(ctx context.Context, after int64, also []int64) ([]Change, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	query := `SELECT seq, subdomain FROM changes WHERE seq > ?`
	args := []any{after}
	if len(also) > 0 {
		query += ` OR seq IN (` + strings.TrimSuffix(strings.Repeat("?,", len(also)), ",") + `)`
		for _, a := range also {
			args = append(args, a)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+` ORDER BY seq LIMIT 10000`), args...)
	if err != nil {
		return nil, s.fail("read changes", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.Subdomain); err != nil {
			return nil, s.fail("read changes", err)
		}
		out = append(out, c)
	}
	return out, s.fail("read changes", rows.Err())
}

// Expire implements Store.
func (s *SQL) Expire(ctx context.Context, now time.Time, keepChanges time.Duration, limit int) (int, error) {
	if err := s.checkFile(); err != nil {
		return 0, err // never write into a file that is no longer the database
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE expires_at <= ?`), ms(now))
	if err != nil {
		return 0, s.fail("expire", err)
	}
	n, _ := res.RowsAffected()
	if res, err = s.db.ExecContext(ctx, s.q(`DELETE FROM zone_txt WHERE expires_at <= ?`), ms(now)); err != nil {
		return int(n), s.fail("expire", err)
	}
	z, _ := res.RowsAffected()
	n += z
	if limit > 0 {
		// No change is recorded: every view serves only the newest limit
		// values of a subdomain anyway (view.View.SetLimit), in the same
		// order (updated_at, then value).
		res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM txt_values WHERE (subdomain, value) IN (
			SELECT subdomain, value FROM (
				SELECT subdomain, value, ROW_NUMBER() OVER (PARTITION BY subdomain ORDER BY updated_at DESC, value DESC) AS rn
				FROM txt_values) ranked
			WHERE rn > ?)`), limit)
		if err != nil {
			return int(n), s.fail("expire", err)
		}
		o, _ := res.RowsAffected()
		n += o
	}
	// Keep the newest change so MAX(seq) never goes back.
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM changes WHERE at < ? AND seq < (SELECT MAX(seq) FROM changes)`), ms(now.Add(-keepChanges))); err != nil {
		return int(n), s.fail("expire", err)
	}
	return int(n), nil
}

// probeBusyTimeout bounds how long Ping's write probe waits for a write lock
// held by another connection: a database locked for longer is reported
// unavailable, since writes would wait (and fail) as well.
const probeBusyTimeout = 500 * time.Millisecond

// Ping implements Store. Beyond a round trip it proves that a write can
// be made durable: the SQLite file is still the opened one (checkFile), and
// one row of table health_probe is written and committed, which fails on
// a write-locked database (after probeBusyTimeout), a read-only file or
// directory, a full disk, or a PostgreSQL standby.
func (s *SQL) Ping(ctx context.Context) error {
	if err := s.checkFile(); err != nil {
		return err
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.fail("ping", err)
	}
	defer conn.Close()
	if s.engine == SQLite {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, probeBusyTimeout.Milliseconds())); err != nil {
			return s.fail("ping", err)
		}
		defer conn.ExecContext(context.Background(), `PRAGMA busy_timeout = 5000`) //nolint:errcheck // the DSN sets it again on a new connection
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("write probe", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if s.engine == Postgres {
		if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '500ms'`); err != nil {
			return s.fail("write probe", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE health_probe SET at = ? WHERE id = 1`), ms(time.Now())); err != nil {
		return s.fail("write probe", err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail("write probe", err)
	}
	return s.checkFile()
}

// Close implements Store.
func (s *SQL) Close() error { return s.db.Close() }

// Listen calls notify whenever another connection commits a change, until ctx
// ends (PostgreSQL LISTEN/NOTIFY). For SQLite it returns at once: followers
// poll. A lost connection is re-established after a second.
func (s *SQL) Listen(ctx context.Context, notify func()) error {
	if s.engine != Postgres {
		return nil
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, notify)
		if ctx.Err() != nil {
			break
		}
		_ = err
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return ctx.Err()
}

func (s *SQL) listenOnce(ctx context.Context, notify func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	notify() // catch up on anything missed while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		notify()
	}
}
