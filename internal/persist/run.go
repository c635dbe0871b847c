package persist

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mholt/acmez/v3/acme"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/names"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
)

// RunOptions is one pass over the dns-persist-01 records of some names:
// learn the issuer domain name, build the records, then optionally create
// them and check them.
type RunOptions struct {
	// Client talks to the CA; Account is the ACME account whose URL goes
	// in the records (it also places the order of SourceChallenge).
	Client  *acme.Client
	Account acme.Account
	// Identifiers are the names, at least one.
	Identifiers []names.Identifier
	// Issuer is the issuer domain name to write; "" discovers it from
	// the CA as Source says (see Discover).
	Issuer string
	Source Source
	// Options are the records' policy and persistUntil.
	Options Options
	// TTL is that of created records (ZoneLine and Apply).
	TTL time.Duration
	// Apply, when set, creates each record through these providers unless
	// an identical one exists (see Apply).
	Apply *providers.Set
	// Check asks Resolvers whether each record authorizes Account (see
	// Check).
	Check bool
	// Resolvers answer Check and the look-ups of Apply.
	Resolvers []resolver.Resolver
	// Now is the time persistUntil is compared with; zero means time.Now.
	Now time.Time
	// Log receives one line per step; nil discards them.
	Log func(line string)
}

// Outcome is what Run found, filled as far as it got.
type Outcome struct {
	Issuers *Issuers  `json:"issuers,omitempty"`
	Records []Record  `json:"records,omitempty"`
	Zone    []string  `json:"zone_lines,omitempty"`
	Applied []Applied `json:"applied,omitempty"`
	Checks  []Checked `json:"checks,omitempty"`
}

// Report is the outcome of one pass as "strictacme persist --json" prints
// it: whether it succeeded, the account whose URL the records carry, and
// what Run found.
type Report struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Account  string `json:"account,omitempty"`
	Outcome
}

// Finish records the outcome of the pass that ended with err.
func (r *Report) Finish(err error) {
	r.OK, r.ExitCode = err == nil, exitcode.Of(err)
	if err != nil {
		r.Error = err.Error()
	}
}

// WriteText writes r as "strictacme persist" prints it without --json:
// the zone-file line of each record, then one line per record and
// resolver of a check.
func (r *Report) WriteText(w io.Writer) {
	for _, l := range r.Zone {
		fmt.Fprintln(w, l)
	}
	for _, c := range r.Checks {
		for _, v := range c.Views {
			state := "authorizes this account"
			if !v.Authorizes {
				state = "does not authorize: " + v.Reason
			}
			if v.Failed {
				state = "no answer: " + v.Reason
			}
			fmt.Fprintf(w, "check %s via %s: %s (sees %s)\n", c.FQDN, v.Resolver, state, quoteAll(v.Values))
		}
	}
}

func quoteAll(vs []string) string {
	if len(vs) == 0 {
		return "nothing"
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// Run does o into out. Errors: those of Discover, Apply and Check (a record
// absent or not authorizing has exit code exitcode.Missing); records that
// cannot be built (a bad persistUntil) have exit code exitcode.Usage.
func Run(ctx context.Context, o RunOptions, out *Outcome) error {
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, a...))
		}
	}
	iss := Issuers{Names: []string{strings.ToLower(strings.TrimSuffix(o.Issuer, "."))}, Source: SourceFlag}
	if o.Issuer == "" {
		var err error
		if iss, err = Discover(ctx, o.Client, o.Account, o.Identifiers, o.Source); err != nil {
			return err
		}
	}
	out.Issuers = &iss
	switch iss.Source {
	case SourceDirectory:
		logf("issuer domain name: %s (from the CA directory's caaIdentities: %s)", iss.Names[0], strings.Join(iss.Names, ", "))
	case SourceChallenge:
		logf("issuer domain name: %s (from the dns-persist-01 challenge of a new order; %d authorization(s) deactivated)", iss.Names[0], iss.Deactivated)
	default:
		logf("issuer domain name: %s (from --issuer)", iss.Names[0])
	}

	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	recs, err := Build(o.Identifiers, iss.Names[0], o.Account.Location, o.Options, now)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	out.Records = recs
	for _, r := range recs {
		out.Zone = append(out.Zone, r.ZoneLine(o.TTL))
	}

	if o.Apply != nil {
		applied, err := Apply(ctx, recs, ApplyOptions{Providers: o.Apply, TTL: o.TTL, Lookup: ResolverLookup(o.Resolvers)})
		out.Applied = applied
		if err != nil {
			return err
		}
		for _, a := range applied {
			if a.Created {
				logf("created %s in zone %s via %s (kept; never cleaned up)", a.Target, strings.TrimSuffix(a.Zone, "."), a.Provider)
			} else {
				logf("%s already holds this record; nothing written", a.Target)
			}
		}
	}
	if o.Check {
		checks, err := Check(ctx, recs, CheckOptions{Resolvers: o.Resolvers, Issuers: iss.Names, AccountURI: o.Account.Location, Now: o.Now})
		out.Checks = checks
		return err
	}
	return nil
}
