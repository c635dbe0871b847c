package renewal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/atomicfile"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/redact"
)

// StateFile is the sidecar file, next to a certificate's "current" link,
// that keeps what renewal learns between runs.
const StateFile = "renewal.json"

// State is what renewal remembers about one certificate (its StateFile). It
// never holds secrets: SaveState replaces every known one (internal/redact)
// in LastError, which may quote a DNS script's output, and writes the file
// readable by its owner only.
type State struct {
	// ARI is the last renewalInfo answer, or nil.
	ARI *ARI `json:"ari,omitempty"`
	// LastAttempt and LastSuccess are when the last renewal attempt started
	// and when one last succeeded (injected clock).
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastResult is "ok", "rate-limited", "error" or "hook-failed".
	LastResult string `json:"last_result,omitempty"`
	// LastError is the one-line message of the last failure.
	LastError string `json:"last_error,omitempty"`
	// LastDurationSeconds is the duration of the last attempt.
	LastDurationSeconds float64 `json:"last_duration_seconds,omitempty"`
	// Errors counts failed attempts over the certificate's life in this
	// store (a Prometheus counter).
	Errors int `json:"errors,omitempty"`
	// RetryAfter is when the CA allows the next attempt after a rate limit
	// (RFC 8555 §6.6); runs before it skip the certificate unless forced.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// Revoked is when `strictacme revoke` revoked the current certificate.
	Revoked time.Time `json:"revoked,omitzero"`
	// RevokedSerial is the serial that was revoked; a newer certificate
	// clears the mark.
	RevokedSerial string `json:"revoked_serial,omitempty"`
}

// Stored records an order whose certificate was stored at: the result
// "ok", with no error and no rate-limit wait left.
func (s *State) Stored(at time.Time) {
	s.LastResult, s.LastError = "ok", ""
	s.LastSuccess = at
	s.RetryAfter = time.Time{}
}

// DeployFailed records that the stored certificate's deploy (outputs or
// deploy hook) failed with err: the result "hook-failed".
func (s *State) DeployFailed(err error) {
	s.LastResult, s.LastError = "hook-failed", err.Error()
}

// RevokedAt returns when the certificate with serial was revoked, or zero.
func (s *State) RevokedAt(serial string) time.Time {
	if s.RevokedSerial != "" && s.RevokedSerial == serial {
		return s.Revoked
	}
	return time.Time{}
}

// LoadState reads the StateFile in certDir; a missing file is an empty
// State, an unreadable JSON one a *StateDamagedError with exit code
// exitcode.State.
func LoadState(certDir string) (*State, error) {
	path := filepath.Join(certDir, StateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, exitcode.With(exitcode.State, &StateDamagedError{Path: path, Err: err})
	}
	return &s, nil
}

// StateDamagedError is a StateFile that is not valid JSON (a disk that
// filled up, a hand edit). The file only caches what renewal learned, so
// the fix is to remove it; renew --force renews over it.
type StateDamagedError struct {
	Path string
	Err  error
}

func (e *StateDamagedError) Error() string {
	return fmt.Sprintf("%s is damaged (%v); it only keeps what renewal learned (ARI window, last result): delete it, or run renew --force, and it is written again", e.Path, e.Err)
}

func (e *StateDamagedError) Unwrap() error { return e.Err }

// SaveState writes s to the StateFile in certDir atomically (0600), known
// secrets redacted.
func SaveState(certDir string, s *State) error {
	c := *s
	c.LastError = redact.String(c.LastError)
	data, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(certDir, StateFile), append(data, '\n'), 0o600)
}

// MarkRevoked records in certDir's StateFile that the certificate with
// serial was revoked at at, so the next run replaces it at once. A damaged
// state file is replaced by one holding only the mark; the error is that of
// writing the file.
func MarkRevoked(certDir, serial string, at time.Time) error {
	s, err := LoadState(certDir)
	if err != nil {
		s = &State{}
	}
	s.Revoked, s.RevokedSerial = at, serial
	return SaveState(certDir, s)
}

// Jitter returns a uniformly random delay in [0, maxDelay) so a fleet of
// machines on the same timer does not reach the CA in the same second; 0
// for maxDelay <= 0.
func Jitter(maxDelay time.Duration) time.Duration {
	if maxDelay <= 0 {
		return 0
	}
	return rand.N(maxDelay)
}

// NowEnv is the environment variable that moves the clock of renewal
// decisions in tests: an RFC 3339 time, or a Go duration with a sign
// relative to the real clock ("+1464h"). It changes nothing else: orders,
// certificates and the CA keep real time.
const NowEnv = "STRICTACME_NOW"

// ClockFromEnv returns the clock of renewal decisions: time.Now, or the one
// NowEnv describes. An unparsable value is an error.
func ClockFromEnv(lookup func(string) (string, bool)) (func() time.Time, error) {
	v, ok := lookup(NowEnv)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return time.Now, nil
	}
	if strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-") {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %v", NowEnv, v, err)
		}
		return func() time.Time { return time.Now().Add(d) }, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: give an RFC 3339 time or a signed duration such as +720h", NowEnv, v)
	}
	return func() time.Time { return t }, nil
}
