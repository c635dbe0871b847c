package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

func init() { addCommand(newListCmd) }

// listEntry is one certificate in `list --json`.
type listEntry struct {
	Name        string    `json:"name"`
	Names       []string  `json:"names"`
	NotAfter    time.Time `json:"not_after"`
	DaysLeft    float64   `json:"days_left"`
	Serial      string    `json:"serial"`
	Profile     string    `json:"profile,omitempty"`
	CA          string    `json:"ca_directory"`
	ARIStart    time.Time `json:"ari_window_start,omitzero"`
	ARIEnd      time.Time `json:"ari_window_end,omitzero"`
	NextRenewal time.Time `json:"next_renewal"`
	DecidedBy   string    `json:"decided_by"`
	LastResult  string    `json:"last_result,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	RetryAfter  time.Time `json:"retry_after,omitzero"`
	Error       string    `json:"error,omitempty"`
}

func newListCmd() *cobra.Command {
	var path string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the stored certificates and when each is renewed",
		Long: `Show the stored certificates: names, expiry, days left, the CA's renewal
window (ARI) as last fetched by renew, the profile, the CA and the result of
the last renewal attempt. Nothing is sent to the CA.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			entries, err := listCerts(path, now())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if entries == nil {
					entries = []listEntry{}
				}
				return enc.Encode(entries)
			}
			printList(cmd.OutOrStdout(), entries)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", defaultPath(), "state directory: accounts, certificates, journal")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
	return withEnv(cmd)
}

func listCerts(path string, now time.Time) ([]listEntry, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usage("--path %s: %v", path, err)
	}
	st := &store.Store{Root: path}
	names, err := st.ListCertificates()
	if err != nil {
		return nil, err
	}
	var out []listEntry
	for _, n := range names {
		e := listEntry{Name: n}
		c, err := st.LoadCertificate(n)
		if err != nil {
			e.Error = err.Error()
			out = append(out, e)
			continue
		}
		m := c.Meta
		e.Names, e.NotAfter, e.Serial, e.Profile, e.CA = m.Names, m.NotAfter, m.Serial, m.Profile, m.Directory
		e.DaysLeft = float64(int(m.NotAfter.Sub(now).Hours()/24*10)) / 10
		s, err := renewal.LoadState(st.CertDir(n))
		if err != nil {
			e.Error = err.Error()
			s = &renewal.State{}
		}
		if s.ARI.HasWindow() && s.ARI.CertID == m.ARICertID {
			e.ARIStart, e.ARIEnd = s.ARI.WindowStart, s.ARI.WindowEnd
		}
		d := renewal.Decide(now, renewal.Cert{NotBefore: m.NotBefore, NotAfter: m.NotAfter, ARICertID: m.ARICertID}, s.ARI, false, s.RevokedAt(m.Serial))
		e.NextRenewal, e.DecidedBy = d.At, string(d.Source)
		if issuedBySandbox(m) {
			// Its CA existed only while strictacme sandbox ran.
			e.NextRenewal, e.DecidedBy = time.Time{}, "sandbox"
		}
		e.LastResult, e.LastAttempt, e.LastError, e.RetryAfter = s.LastResult, s.LastAttempt, s.LastError, s.RetryAfter
		out = append(out, e)
	}
	return out, nil
}

func printList(w io.Writer, entries []listEntry) {
	if len(entries) == 0 {
		fmt.Fprintln(w, "no certificates stored")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDOMAINS\tNOT AFTER\tDAYS LEFT\tRENEW AT\tARI WINDOW\tPROFILE\tCA\tLAST RESULT")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, e := range entries {
		if e.Error != "" && e.NotAfter.IsZero() {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\terror: %s\n", e.Name, e.Error)
			continue
		}
		window := "-"
		if !e.ARIStart.IsZero() {
			window = day(e.ARIStart) + " .. " + day(e.ARIEnd)
		}
		last := e.LastResult
		if last == "" {
			last = "-"
		} else if !e.LastAttempt.IsZero() {
			last += " " + day(e.LastAttempt)
		}
		profile := e.Profile
		if profile == "" {
			profile = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s (%s)\t%s\t%s\t%s\t%s\n", e.Name, strings.Join(e.Names, ","), day(e.NotAfter), e.DaysLeft,
			day(e.NextRenewal), e.DecidedBy, window, profile, caHost(e.CA), last)
	}
	_ = tw.Flush()
}

// caHost shortens a directory URL to a preset name or its host.
func caHost(dir string) string {
	for name, u := range plan.CAPresets {
		if u == dir {
			return name
		}
	}
	if u, err := url.Parse(dir); err == nil && u.Host != "" {
		return u.Host
	}
	return dir
}
