// Package preflight answers "would issuance work from here?" without
// issuing: `strictacme check`. For one certificate it reads the CA's
// directory, looks for a stored account, resolves where every challenge
// record would be written and reads (never writes) the zones that would
// hold them, asks each configured resolver a question about a name that
// exists, probes port 53 only when the operator allowed it, and compares
// the CAA records of every name with the CA's caaIdentities (RFC 8659).
//
// Each check is one Row with a Status and a one-line Detail that says what
// is wrong and how to fix it. No check sends an ACME request other than
// the directory GET, writes to a DNS provider, or asks any resolver about a
// challenge name that is not delegated (RFC 2308 negative caching).
package preflight

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/internal/resolver"
	"github.com/strictacme/strictacme/internal/version"
)

// Status is the outcome of one check.
type Status string

// Statuses, as printed.
const (
	OK   Status = "ok"   // works
	Warn Status = "warn" // works, or may, but something deserves attention
	Fail Status = "FAIL" // issuance would fail; Row.Code says with which exit code
)

// Row is one check of one certificate.
type Row struct {
	// Check names what was checked, e.g. "CA directory" or
	// "resolver https://dns.quad9.net/dns-query".
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Detail is one line: what was found, or what failed and how to fix it.
	Detail string `json:"detail"`
	// Code is the exit code issuance would end with (internal/exitcode)
	// when Status is Fail; 0 otherwise.
	Code int `json:"exit_code,omitempty"`
}

func ok(check, detail string) Row   { return Row{Check: check, Status: OK, Detail: detail} }
func warn(check, detail string) Row { return Row{Check: check, Status: Warn, Detail: detail} }
func fail(check string, code int, detail string) Row {
	return Row{Check: check, Status: Fail, Detail: detail, Code: code}
}

// Delegator maps a challenge record name to the name the record is written
// at; internal/delegation.Delegator implements it (the same value the issue
// path uses).
type Delegator interface {
	Delegate(ctx context.Context, fqdn string) (string, error)
}

// Target is one certificate as the issue path would run it.
type Target struct {
	// Name is the certificate's name in the store.
	Name string
	// Identifiers are the certificate's names in A-label form; a wildcard
	// starts with "*.".
	Identifiers []string
	// Directory is the ACME directory URL; HTTPClient is the client the
	// issue path would use for it (--ca-cert roots, proxy).
	Directory  string
	HTTPClient *http.Client
	// StatePath is --path; the account is looked up there.
	StatePath string
	// AcceptTOS and HasEAB say whether an account could be created.
	AcceptTOS, HasEAB bool
	// Challenges are the challenge type names in order of preference
	// ("dns-01", …); CAA validationmethods are compared with them
	// (RFC 8657 §4).
	Challenges []string
	// Providers route each record to a provider and zone; nil means none
	// is configured.
	Providers *providers.Set
	// Delegate is the delegation of the issue path; nil writes every
	// record at its own name.
	Delegate Delegator
	// Resolvers are the configured resolvers (DoH by default), used for
	// the probes, CNAME checks and CAA.
	Resolvers []resolver.Resolver
	// Strategy and Fallback are --propagation and --propagation-fallback;
	// Quorum is --quorum (0 = all resolvers).
	Strategy, Fallback string
	Quorum             int
	// Propagation is the strategy issue would run for this certificate
	// (propagation.Build from the same settings); nil builds it from the
	// fields above and the providers' declarations. The strategy row shows
	// its one-line decision, for "auto" decided from this machine's probes
	// by propagation.Decide, as issue decides.
	Propagation propagation.Strategy
	// AllowPort53 lets the port-53 probe run for "auto" (allow_port53).
	// "authoritative" and "resolver" imply it.
	AllowPort53 bool
	// Port replaces 53 for authoritative servers (tests).
	Port string
	// DNSOptions configure the plain-DNS questions of the port-53 probe
	// (Timeout per question, the --request-timeout; IPv4Only).
	DNSOptions resolver.Options
	// Setting names setting key of the provider called provider as the
	// user gave it (a config key, or the environment variable), for the
	// rows; nil names the key.
	Setting func(provider, key string) string
}

// Report is every check of one certificate, in the order they ran.
type Report struct {
	Certificate string   `json:"name"` // the certificate's name, as in list and renew
	Names       []string `json:"names"`
	Directory   string   `json:"ca_directory"`
	Rows        []Row    `json:"checks"`
}

// Code returns the exit code of the first failed row, or exitcode.OK.
func (r *Report) Code() int {
	for _, row := range r.Rows {
		if row.Status == Fail {
			if row.Code == 0 {
				return exitcode.Failure
			}
			return row.Code
		}
	}
	return exitcode.OK
}

// Failed counts the rows with Status Fail.
func (r *Report) Failed() int {
	n := 0
	for _, row := range r.Rows {
		if row.Status == Fail {
			n++
		}
	}
	return n
}

// Summary is every report of one check run (check --json).
type Summary struct {
	// OK is true when no row of any report failed (warnings allowed).
	OK bool `json:"ok"`
	// ExitCode is the code of the first report with a failed row
	// (Report.Code), exitcode.OK when none has one.
	ExitCode     int       `json:"exit_code"`
	Certificates []*Report `json:"certificates"`
}

// RunAll checks every target (Run), probing port 53 of the authoritative
// servers at port ("" is 53), and summarizes the reports. When a check
// failed the error says so, with the exit code of the first failure.
func RunAll(ctx context.Context, targets []Target, port string) (*Summary, error) {
	var reps []*Report
	for _, t := range targets {
		t.Port = port
		reps = append(reps, Run(ctx, t))
	}
	s := Summarize(reps)
	if !s.OK {
		return s, exitcode.With(s.ExitCode, fmt.Errorf("check: %d check(s) failed; issuance would fail (see the FAIL rows)", s.Failed()))
	}
	return s, nil
}

// Summarize is the summary of reps, in their order.
func Summarize(reps []*Report) *Summary {
	s := &Summary{OK: true, Certificates: reps}
	for _, rep := range reps {
		if c := rep.Code(); c != exitcode.OK && s.OK {
			s.ExitCode, s.OK = c, false
		}
	}
	return s
}

// Failed counts the failed rows of every report.
func (s *Summary) Failed() int {
	n := 0
	for _, r := range s.Certificates {
		n += r.Failed()
	}
	return n
}

// WriteText writes s as "strictacme check" prints it without --json: one
// table per certificate (check, status, detail) and, when every check
// passed, a closing line.
func (s *Summary) WriteText(w io.Writer) {
	for i, rep := range s.Certificates {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "certificate %q: %s\n", rep.Certificate, strings.Join(rep.Names, ", "))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CHECK\tSTATUS\tDETAIL")
		for _, r := range rep.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Check, r.Status, r.Detail)
		}
		_ = tw.Flush()
	}
	if s.OK {
		fmt.Fprintln(w, "all checks passed: issuance should work from here")
	}
}

// Run checks t: CA directory, account, providers and zones, delegation,
// resolvers and port 53, the propagation strategy, and CAA. It writes
// nothing anywhere and issues nothing. ctx bounds the whole run.
func Run(ctx context.Context, t Target) *Report {
	rep := &Report{Certificate: t.Name, Names: t.Identifiers, Directory: t.Directory}
	add := func(rows ...Row) { rep.Rows = append(rep.Rows, rows...) }

	dirRow, dir := Directory(ctx, t.HTTPClient, t.Directory, version.UserAgent())
	add(dirRow)
	acctRow, accountURL := Account(t.StatePath, t.Directory, dir, t.AcceptTOS, t.HasEAB)
	add(acctRow)

	routes := Routes(ctx, t)
	add(providerRows(ctx, t.Providers, routes, t.Setting)...)
	add(DelegationRows(routes)...)

	eps := Endpoints(ctx, t.Resolvers, probeName(t, routes))
	for _, e := range eps {
		add(e.Row)
	}
	p53 := Port53(ctx, t, eps, routes)
	add(p53)
	add(StrategyRow(t, eps, p53, routes))

	working := Working(eps)
	for _, id := range t.Identifiers {
		add(CAA(ctx, working, id, dir, t.Challenges, accountURL))
	}
	return rep
}

// probeName is the name the resolvers are asked about: the apex of the
// first zone a record would be written to, else the registered domain of
// the first identifier. It exists (an SOA is there), so the question
// cannot leave a negative answer in any cache that matters (RFC 2308).
func probeName(t Target, routes []Route) string {
	for _, r := range routes {
		if r.Zone != "" {
			return r.Zone
		}
	}
	if len(t.Identifiers) > 0 {
		if rd, err := providers.RegisteredDomain(strings.TrimPrefix(t.Identifiers[0], "*.")); err == nil {
			return rd
		}
	}
	return "."
}
