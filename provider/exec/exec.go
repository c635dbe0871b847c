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
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/internal/proc"
	"github.com/strictacme/strictacme/internal/redact"
)

// Config configures the provider.
type Config struct {
	// Program is the path of the program to run (EXEC_PATH).
	Program string
	// Timeout bounds one run of the program; 0 means 2 minutes.
	Timeout time.Duration
	// SequenceInterval is a pause between two runs, for scripts whose
	// backend cannot take writes back to back (EXEC_SEQUENCE_INTERVAL).
	SequenceInterval time.Duration
	// ServingLag is how long the script's DNS service takes to serve a
	// written record on its authoritative servers (EXEC_SERVING_LAG);
	// 0, the default, means at once or unknown. Propagation checks wait
	// this long after the write before asking caching resolvers.
	ServingLag time.Duration
	// Sequential declares that the program replaces the TXT value at a
	// name on each present (an upsert script) instead of adding one
	// (EXEC_SEQUENTIAL=true): names that share a TXT owner, an apex and
	// its wildcard, are then validated one after the other, as lego's
	// exec provider does.
	Sequential bool
}

// ConfigFromEnv reads EXEC_PATH, EXEC_MODE, EXEC_SEQUENCE_INTERVAL
// (seconds, as lego), EXEC_SERVING_LAG (a duration or seconds) and
// EXEC_SEQUENTIAL (true/false). Errors name the variable and the fix.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	c.Program, _ = lookup("EXEC_PATH")
	if strings.TrimSpace(c.Program) == "" {
		return c, errors.New("EXEC_PATH is not set; set it to the program that writes TXT records (called as: PROGRAM present|cleanup FQDN VALUE)")
	}
	if err := checkProgram(c.Program); err != nil {
		return c, fmt.Errorf("EXEC_PATH=%s: %v", c.Program, err)
	}
	if m, _ := lookup("EXEC_MODE"); strings.EqualFold(strings.TrimSpace(m), "RAW") {
		return c, errors.New("EXEC_MODE=RAW is not supported; unset it: the program is called with the FQDN and the TXT value")
	}
	if v, ok := lookup("EXEC_SEQUENCE_INTERVAL"); ok && strings.TrimSpace(v) != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return c, fmt.Errorf("EXEC_SEQUENCE_INTERVAL=%q: give whole seconds", v)
		}
		c.SequenceInterval = d
	}
	if v, ok := lookup("EXEC_SERVING_LAG"); ok && strings.TrimSpace(v) != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return c, fmt.Errorf("EXEC_SERVING_LAG=%q: give a duration such as 90s or whole seconds", v)
		}
		c.ServingLag = d
	}
	if v, ok := lookup("EXEC_SEQUENTIAL"); ok && strings.TrimSpace(v) != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return c, fmt.Errorf("EXEC_SEQUENTIAL=%q: give true or false", v)
		}
		c.Sequential = b
	}
	return c, nil
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

// Provider runs the program. Calls are serialised: scripts are rarely safe
// to run concurrently against their backend.
type Provider struct {
	cfg Config
	mu  sync.Mutex
}

// SingleValue returns Config.Sequential (providers.SingleValue).
func (p *Provider) SingleValue() bool { return p.cfg.Sequential }

// ServingLag returns Config.ServingLag (providers.ServingLagger).
func (p *Provider) ServingLag() time.Duration { return p.cfg.ServingLag }

// New returns a provider for cfg.
func New(cfg Config) (*Provider, error) {
	if cfg.Program == "" {
		return nil, errors.New("exec provider: no program configured (EXEC_PATH)")
	}
	if err := checkProgram(cfg.Program); err != nil {
		return nil, fmt.Errorf("exec provider: program %s: %v", cfg.Program, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	return &Provider{cfg: cfg}, nil
}

// Program returns the configured program (EXEC_PATH) as given, so a
// preflight check can test that it exists without running it.
func (p *Provider) Program() string { return p.cfg.Program }

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
	p.mu.Lock()
	defer p.mu.Unlock()
	var done []libdns.Record
	for i, r := range recs {
		rr := r.RR()
		if rr.Type != "TXT" {
			return done, fmt.Errorf("exec provider handles TXT records only, not %s", rr.Type)
		}
		if i > 0 && p.cfg.SequenceInterval > 0 {
			select {
			case <-time.After(p.cfg.SequenceInterval):
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

func (p *Provider) run(ctx context.Context, action, fqdn, value string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	cmd := osexec.CommandContext(ctx, p.cfg.Program, action, fqdn, value)
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
		return fmt.Errorf("%s %s %s: no answer within %s", p.cfg.Program, action, fqdn, p.cfg.Timeout)
	case errors.As(err, &ee):
		return fmt.Errorf("%s %s %s: exit status %d%s", p.cfg.Program, action, fqdn, ee.ExitCode(), last)
	}
	return fmt.Errorf("%s %s %s: %v", p.cfg.Program, action, fqdn, err)
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

// checkProgram finds program the way it will be started: a name without a
// slash is looked up in $PATH (a file of that name in the current directory
// does not count), a path must be an executable file.
func checkProgram(program string) error {
	if _, err := osexec.LookPath(program); err != nil {
		if !strings.Contains(program, "/") {
			return errors.New("not found in $PATH; give its path, e.g. ./" + program)
		}
		info, serr := os.Stat(program)
		switch {
		case serr != nil:
			return errors.New("no such file; give the path of the program that writes TXT records")
		case info.IsDir():
			return errors.New("is a directory; give the program that writes TXT records")
		default:
			return errors.New("not executable; chmod +x it")
		}
	}
	return nil
}
