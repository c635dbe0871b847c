// Package exec is a DNS provider that runs an operator's program to write and
// remove challenge records, with the calling convention of lego's "exec"
// provider so existing scripts keep working:
//
//	$EXEC_PATH present _acme-challenge.example.com. <value>
//	$EXEC_PATH cleanup _acme-challenge.example.com. <value>
//
// The FQDN is absolute (trailing dot), the value is the TXT content. The
// program gets the environment of strictacme (its own DNS API credentials
// are usually there), less every variable holding a credential strictacme
// itself was given (a Namecheap API key, the EAB key). A non-zero exit
// fails the write or delete; the last line it printed on stderr is quoted in
// the error, with known secrets replaced. The program runs in a process
// group of its own, killed as a whole at the timeout or when the run is
// cancelled, so a child it started cannot keep the run waiting.
//
// lego's RAW mode (domain, token and key authorization instead of FQDN and
// value) is refused with a message: DNS challenges other than dns-01 have no
// meaningful token form, and the record value is what a DNS script needs.
package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/proc"
	"github.com/strictacme/strictacme/internal/redact"
)

// Provider runs Program to write and remove TXT records. It is ready to use
// from its zero value with Program set; the other fields have defaults.
// Do not change the fields after the first call. Runs are serialised
// unless Parallel says otherwise: scripts are rarely safe to run
// concurrently against their backend.
type Provider struct {
	// Program is the path of the program to run (EXEC_PATH), or a name
	// looked up in $PATH.
	Program string `json:"program,omitempty"`
	// Timeout bounds one run of the program; 0 means 2 minutes.
	Timeout time.Duration `json:"timeout,omitempty"`
	// SequenceInterval is a pause between two runs, for scripts whose
	// backend cannot take writes back to back (EXEC_SEQUENCE_INTERVAL).
	SequenceInterval time.Duration `json:"sequence_interval,omitempty"`
	// Lag is how long the script's DNS service takes to serve a written
	// record on its authoritative servers (EXEC_SERVING_LAG); 0, the
	// default, means at once or unknown. ServingLag returns it, and
	// propagation checks wait this long after the write before asking
	// caching resolvers.
	Lag time.Duration `json:"serving_lag,omitempty"`
	// Sequential declares that the program replaces the TXT value at a
	// name on each present (an upsert script) instead of adding one
	// (EXEC_SEQUENTIAL=true): names that share a TXT owner, an apex and
	// its wildcard, are then validated one after the other, as lego's
	// exec provider does. SingleValue returns it.
	Sequential bool `json:"sequential,omitempty"`
	// Parallel declares that up to Parallel runs of the program may overlap
	// (EXEC_PARALLEL); 0 and 1 mean one at a time, the default. The bound
	// holds across every call on the Provider. With Parallel > 1 a call
	// runs every record even when one fails (the error names each failure,
	// the returned records are those done), runs for the same FQDN keep
	// their order and never overlap, and SequenceInterval is the least time
	// between two starts. It combines with Sequential: which names go into
	// one write is decided by the caller, Parallel only says how many of
	// that write's runs may overlap.
	Parallel int `json:"parallel,omitempty"`

	mu       sync.Mutex // one call at a time when Parallel <= 1
	slotOnce sync.Once
	slots    chan struct{} // Parallel tokens, one per running program
	startMu  sync.Mutex    // guards next
	next     time.Time     // earliest start of the next run (SequenceInterval)
}

// DefaultTimeout bounds one run of the program when Timeout is 0.
const DefaultTimeout = 2 * time.Minute

// FromEnv returns a provider configured by EXEC_PATH, EXEC_MODE,
// EXEC_SEQUENCE_INTERVAL (seconds, as lego), EXEC_SERVING_LAG (a duration
// or seconds), EXEC_SEQUENTIAL (true/false) and EXEC_PARALLEL (how many
// runs may overlap, a whole number ≥ 1), read through lookup
// (os.LookupEnv for the environment). It checks that the program can be
// started. Errors name the variable and the fix.
func FromEnv(lookup func(string) (string, bool)) (*Provider, error) {
	p := &Provider{}
	p.Program, _ = lookup("EXEC_PATH")
	if strings.TrimSpace(p.Program) == "" {
		return nil, errors.New("EXEC_PATH is not set; set it to the program that writes TXT records (called as: PROGRAM present|cleanup FQDN VALUE)")
	}
	if err := CheckProgram(p.Program); err != nil {
		return nil, fmt.Errorf("EXEC_PATH=%s: %v", p.Program, err)
	}
	if m, _ := lookup("EXEC_MODE"); strings.EqualFold(strings.TrimSpace(m), "RAW") {
		return nil, errors.New("EXEC_MODE=RAW is not supported; unset it: the program is called with the FQDN and the TXT value")
	}
	var err error
	if v, ok := lookup("EXEC_SEQUENCE_INTERVAL"); ok && strings.TrimSpace(v) != "" {
		if p.SequenceInterval, err = ParseSequenceInterval(v); err != nil {
			return nil, fmt.Errorf("EXEC_SEQUENCE_INTERVAL=%q: %v", v, err)
		}
	}
	if v, ok := lookup("EXEC_SERVING_LAG"); ok && strings.TrimSpace(v) != "" {
		if p.Lag, err = ParseServingLag(v); err != nil {
			return nil, fmt.Errorf("EXEC_SERVING_LAG=%q: %v", v, err)
		}
	}
	if v, ok := lookup("EXEC_SEQUENTIAL"); ok && strings.TrimSpace(v) != "" {
		if p.Sequential, err = ParseSequential(v); err != nil {
			return nil, fmt.Errorf("EXEC_SEQUENTIAL=%q: %v", v, err)
		}
	}
	if v, ok := lookup("EXEC_PARALLEL"); ok && strings.TrimSpace(v) != "" {
		if p.Parallel, err = ParseParallel(v); err != nil {
			return nil, fmt.Errorf("EXEC_PARALLEL=%q: %v", v, err)
		}
	}
	return p, nil
}

// The settings' parsers below turn the text of one setting (as an
// environment variable holds it) into its field. Their errors say what is
// wrong and what to give, without naming the setting: FromEnv names the
// variable, other callers the name the user gave it. CheckProgram (below)
// is the parser of Program.

// ParseSequenceInterval parses SequenceInterval: whole seconds, as lego,
// or a duration such as "2s".
func ParseSequenceInterval(v string) (time.Duration, error) {
	d, err := parseSeconds(v)
	if err != nil {
		return 0, errors.New("give whole seconds")
	}
	return d, nil
}

// ParseServingLag parses Lag: a duration such as "90s", or whole seconds.
func ParseServingLag(v string) (time.Duration, error) {
	d, err := parseSeconds(v)
	if err != nil {
		return 0, errors.New("give a duration such as 90s or whole seconds")
	}
	return d, nil
}

// ParseSequential parses Sequential: true or false.
func ParseSequential(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, errors.New("give true or false")
	}
	return b, nil
}

// ParseParallel parses Parallel: a whole number from 1.
func ParseParallel(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return 0, errors.New("give how many runs of the program may overlap, a whole number from 1 (the default, one at a time)")
	}
	return n, nil
}

func parseSeconds(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil {
		return d, nil
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n); err != nil || n < 0 {
		return 0, errors.New("not a number of seconds")
	}
	return time.Duration(n) * time.Second, nil
}

// SingleValue returns Sequential (the providers' single-value declaration).
func (p *Provider) SingleValue() bool { return p.Sequential }

// ServingLag returns Lag (the providers' serving-lag declaration).
func (p *Provider) ServingLag() time.Duration { return max(p.Lag, 0) }

// Check reports whether Program can be started, without running it (see
// CheckProgram).
func (p *Provider) Check() error {
	if strings.TrimSpace(p.Program) == "" {
		return errors.New("exec: Program is empty; set it to the program that writes TXT records")
	}
	if err := CheckProgram(p.Program); err != nil {
		return fmt.Errorf("exec: program %s: %v", p.Program, err)
	}
	return nil
}

// AppendRecords runs "present FQDN VALUE" once per TXT record. Other record
// types are refused.
func (p *Provider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "present", zone, recs)
}

// DeleteRecords runs "cleanup FQDN VALUE" once per TXT record.
func (p *Provider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return p.each(ctx, "cleanup", zone, recs)
}

func (p *Provider) each(ctx context.Context, action, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	if strings.TrimSpace(p.Program) == "" {
		return nil, p.Check()
	}
	if p.Parallel > 1 {
		return p.overlapping(ctx, action, zone, recs)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var done []libdns.Record
	for i, r := range recs {
		rr := r.RR()
		if rr.Type != "TXT" {
			return done, fmt.Errorf("exec: TXT records only, not %s", rr.Type)
		}
		if i > 0 && p.SequenceInterval > 0 {
			select {
			case <-time.After(p.SequenceInterval):
			case <-ctx.Done():
				return done, ctx.Err()
			}
		}
		fqdn := libdns.AbsoluteName(rr.Name, zone)
		if err := p.run(ctx, action, fqdn, rr.Data); err != nil {
			return done, err
		}
		done = append(done, r)
	}
	return done, nil
}

// overlapping runs recs with up to Parallel programs at a time (shared
// with concurrent calls). Every record is tried; runs for one FQDN go one
// after the other in the order given, so a script sees a name's present
// before its next one. The records done come back in the order given.
func (p *Provider) overlapping(ctx context.Context, action, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	for _, r := range recs {
		if t := r.RR().Type; t != "TXT" {
			return nil, fmt.Errorf("exec: TXT records only, not %s", t)
		}
	}
	p.slotOnce.Do(func() { p.slots = make(chan struct{}, p.Parallel) })
	var order []string
	byName := map[string][]int{}
	for i, r := range recs {
		fqdn := libdns.AbsoluteName(r.RR().Name, zone)
		if _, ok := byName[fqdn]; !ok {
			order = append(order, fqdn)
		}
		byName[fqdn] = append(byName[fqdn], i)
	}
	ok := make([]bool, len(recs))
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for _, fqdn := range order {
		wg.Add(1)
		go func(fqdn string, idx []int) {
			defer wg.Done()
			for _, i := range idx {
				if errs[i] = p.slotRun(ctx, action, fqdn, recs[i].RR().Data); errs[i] == nil {
					ok[i] = true
				}
			}
		}(fqdn, byName[fqdn])
	}
	wg.Wait()
	var done []libdns.Record
	for i, r := range recs {
		if ok[i] {
			done = append(done, r)
		}
	}
	return done, errors.Join(errs...)
}

// slotRun runs the program once it holds one of the Parallel slots and
// SequenceInterval has passed since the previous start.
func (p *Provider) slotRun(ctx context.Context, action, fqdn, value string) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s %s %s: not run: %w", p.Program, action, fqdn, ctx.Err())
	}
	defer func() { <-p.slots }()
	if p.SequenceInterval > 0 {
		p.startMu.Lock()
		now := time.Now()
		at := p.next
		if at.Before(now) {
			at = now
		}
		p.next = at.Add(p.SequenceInterval)
		p.startMu.Unlock()
		if wait := at.Sub(now); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return fmt.Errorf("%s %s %s: not run: %w", p.Program, action, fqdn, ctx.Err())
			}
		}
	}
	return p.run(ctx, action, fqdn, value)
}

func (p *Provider) run(ctx context.Context, action, fqdn, value string) error {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := osexec.CommandContext(ctx, p.Program, action, fqdn, value)
	cmd.Env = environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	proc.Group(cmd, 0)
	err := cmd.Run()
	if err == nil || errors.Is(err, osexec.ErrWaitDelay) {
		return nil
	}
	last := lastLine(redact.String(stderr.String()))
	if last != "" {
		last = ": " + last
	}
	var ee *osexec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%s %s %s: no answer within %s", p.Program, action, fqdn, timeout)
	case errors.As(err, &ee):
		return fmt.Errorf("%s %s %s: exit status %d%s", p.Program, action, fqdn, ee.ExitCode(), last)
	}
	if cerr := p.Check(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("%s %s %s: %v", p.Program, action, fqdn, err)
}

// environ is strictacme's environment without the variables whose value is
// a secret strictacme was given.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		_, v, _ := strings.Cut(kv, "=")
		if !redact.Is(v) {
			env = append(env, kv)
		}
	}
	return env
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "…"
	}
	return l
}

// CheckProgram reports whether program can be started the way Provider
// starts it, without running it. A name without a directory must be in
// PATH (a file of that name in the current directory does not count); a
// path must name a file the system runs: on Unix one with an execute bit,
// on Windows one whose extension is in PATHEXT (.exe, .cmd, .bat, …), since
// mode bits mean nothing there. The error is the reason and the fix, for
// the caller to prefix with where program came from (EXEC_PATH).
func CheckProgram(program string) error {
	return checkProgram(runtime.GOOS, program, osexec.LookPath, os.Stat)
}

func checkProgram(goos, program string, lookPath func(string) (string, error), stat func(string) (fs.FileInfo, error)) error {
	if _, err := lookPath(program); err == nil {
		return nil
	}
	hasDir := strings.Contains(program, "/")
	if goos == "windows" {
		hasDir = strings.ContainsAny(program, `/\:`)
	}
	if !hasDir {
		if goos == "windows" {
			return errors.New(`not found in %PATH%; give its path, e.g. .\` + program)
		}
		return errors.New("not found in $PATH; give its path, e.g. ./" + program)
	}
	info, err := stat(program)
	switch {
	case err != nil:
		return errors.New("no such file; give the path of the program that writes TXT records")
	case info.IsDir():
		return errors.New("is a directory; give the program that writes TXT records")
	case goos == "windows":
		return errors.New("not a program Windows starts: its extension is not in PATHEXT (.exe, .cmd, .bat, …); for a PowerShell script give a .cmd that runs it")
	default:
		return errors.New("not executable; chmod +x it")
	}
}
