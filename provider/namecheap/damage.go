package namecheap

import (
	"context"
	"fmt"
	"strings"

	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
)

// Row is one host record of a zone as Namecheap's getHosts shows it
// (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/):
// MXPref and TTL are the text the server sent.
type Row struct {
	Name, Type, Address, MXPref, TTL string
}

func rowOf(h api.Host) Row {
	return Row{Name: h.Name, Type: h.Type, Address: h.Address, MXPref: h.MXPref, TTL: h.TTL}
}

func (r Row) String() string {
	return fmt.Sprintf("%s %s %q (MXPref %s, TTL %s)", r.Name, r.Type, r.Address, r.MXPref, r.TTL)
}

// LostRow is a record that was in the zone before a write of ours and is
// not there, unchanged, after it. Now is what the zone holds in its place
// (the API's altered version, e.g. the TXT value without its quotes), or
// nil if the row was dropped.
type LostRow struct {
	Row
	Now *Row
}

func (l LostRow) String() string {
	if l.Now == nil {
		return l.Row.String() + " is gone"
	}
	return l.Row.String() + " is now " + l.Now.String()
}

// DamageError says that a setHosts of ours did not store rows that it
// sent back exactly as read: the API dropped or altered them (it keeps MX
// rows only when the zone's EmailType is MX, and strips surrounding quotes
// from TXT values). One more write tried to restore them; Lost lists each
// record that is still missing or changed, as it was before. Nothing else
// was written to the zone after the repair attempt. Err, if set, is why
// the repair could not be done or checked.
type DamageError struct {
	Zone string
	Lost []LostRow
	Err  error
}

func (e *DamageError) Error() string {
	parts := make([]string, len(e.Lost))
	for i, l := range e.Lost {
		parts[i] = l.String()
	}
	msg := fmt.Sprintf("namecheap: zone %s lost %d record(s) in a setHosts that sent them back unchanged (the API dropped or altered them), and one more write did not restore them: %s; re-create them in the Namecheap dashboard (Domain List, Manage, Advanced DNS)",
		e.Zone, len(e.Lost), strings.Join(parts, "; "))
	if e.Err != nil {
		msg += " (repair: " + e.Err.Error() + ")"
	}
	return msg
}

func (e *DamageError) Unwrap() error { return e.Err }

// subtract returns the rows of a that are not in b, as multisets of
// recordKey.
func subtract(a, b []api.Host) []api.Host {
	count := map[string]int{}
	for _, h := range b {
		count[recordKey(h)]++
	}
	var out []api.Host
	for _, h := range a {
		k := recordKey(h)
		if count[k] > 0 {
			count[k]--
			continue
		}
		out = append(out, h)
	}
	return out
}

// unquote strips one pair of surrounding double quotes, as setHosts does
// to TXT values.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// alteredFrom reports whether now can be what the API made of was: same
// name and type, the same value up to surrounding quotes, a trailing dot
// and letter case of host names; TTL and MXPref may differ (the server
// defaults them). A row with another value is a different record, never
// an alteration.
func alteredFrom(now, was api.Host) bool {
	if !strings.EqualFold(now.Name, was.Name) || !strings.EqualFold(now.Type, was.Type) {
		return false
	}
	a, b := unquote(now.Address), unquote(was.Address)
	if api.HostnameValued(was.Type) {
		return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
	}
	return a == b
}

// lostRows pairs each row of lost with the row of extra (rows the zone
// holds that were not sent) that the API made of it, if any; each extra row
// pairs once. It returns the pairs and the extra rows left unpaired.
func lostRows(lost, extra []api.Host) ([]LostRow, []api.Host) {
	used := make([]bool, len(extra))
	out := make([]LostRow, len(lost))
	for i, l := range lost {
		out[i] = LostRow{Row: rowOf(l)}
		for j, e := range extra {
			if !used[j] && alteredFrom(e, l) {
				used[j] = true
				r := rowOf(e)
				out[i].Now = &r
				break
			}
		}
	}
	var rest []api.Host
	for j, e := range extra {
		if !used[j] {
			rest = append(rest, e)
		}
	}
	return out, rest
}

// repair follows a setHosts of sent that came back without some of the
// rows kept from the read (lost): the API dropped or altered them. It
// writes once more what the zone holds now with the lost rows (and any of
// ours, added) put back in place of their altered versions, rows of other
// writers kept, then reads the zone again. It returns nil if every kept
// row is back, else a *DamageError naming the rows still lost.
func (p *Provider) repair(ctx context.Context, c *api.Client, z, sld, tld, emailType string, sent, kept []api.Host, now *api.HostsResult) error {
	lost := subtract(kept, now.Hosts)
	extra := subtract(now.Hosts, sent)
	pairs, others := lostRows(lost, extra)
	for _, l := range pairs {
		p.log.Warn("namecheap setHosts damaged a record it was sent unchanged; restoring it", "zone", z, "record", l.String())
	}
	// What the zone holds that we sent, plus rows we did not send and
	// that are no altered version of ours (another writer's), plus every
	// row we sent that is missing.
	restore := subtract(now.Hosts, subtract(extra, others))
	restore = append(restore, subtract(sent, now.Hosts)...)
	fail := func(err error) error {
		return &DamageError{Zone: z, Lost: pairs, Err: err}
	}
	if err := p.checkWrite(z, &api.HostsResult{EmailType: emailType, Hosts: restore}, restore); err != nil {
		return fail(err)
	}
	if err := c.SetHosts(ctx, sld, tld, emailType, restore); err != nil {
		return fail(fmt.Errorf("writing zone %s: %w", z, err))
	}
	again, err := c.GetHosts(ctx, sld, tld)
	if err != nil {
		return fail(fmt.Errorf("zone %s was written but the verifying getHosts failed: %w", z, err))
	}
	still := subtract(kept, again.Hosts)
	if len(still) == 0 {
		p.log.Warn("namecheap zone restored after setHosts damaged it", "zone", z, "records", len(pairs))
		return nil
	}
	pairs, _ = lostRows(still, subtract(again.Hosts, restore))
	return &DamageError{Zone: z, Lost: pairs}
}
