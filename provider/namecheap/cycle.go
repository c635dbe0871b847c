package namecheap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strictacme/strictacme/internal/providers"
	"github.com/strictacme/strictacme/provider/namecheap/internal/api"
)

// LostUpdateError says the verifying getHosts kept showing a zone other
// than the one written, Cycles times in a row, with every row we kept
// intact: another writer (on another machine, or a client without our
// lock) keeps replacing the zone, or the API does not store our records.
type LostUpdateError struct {
	Zone   string
	Cycles int
}

func (e *LostUpdateError) Error() string {
	return fmt.Sprintf("namecheap: zone %s changed under us in each of %d read-modify-write cycles (another client is writing it, or the API does not keep our records); run one job per zone at a time, or give each job its own zone via CNAME delegation", e.Zone, e.Cycles)
}

// RefusedError is a write refused before anything was sent: the zone is
// untouched. Reason says what and how to fix it.
type RefusedError struct {
	Zone   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("namecheap: not writing zone %s (nothing was changed): %s", e.Zone, e.Reason)
}

func parseInt(s string) (int, error) { return strconv.Atoi(strings.TrimSpace(s)) }

// lockZone serialises changes to zone z: inside the process, and across
// processes through a lock file in LockDir (providers.ZoneLocks). The
// wait honours ctx.
func (p *Provider) lockZone(ctx context.Context, z string) (func(), error) {
	unlock, err := p.locks.LockContext(ctx, z)
	var de *providers.LockDirError
	if errors.As(err, &de) {
		return nil, fmt.Errorf("namecheap: locking zone %s: %v; set %s to a writable directory", z, err, EnvLockDir)
	}
	if err != nil {
		return nil, fmt.Errorf("namecheap: locking zone %s in %s: %w", z, p.cfg.LockDir, err)
	}
	return unlock, nil
}

// change applies adds and dels to zone z in read-modify-write-verify
// cycles under the zone lock: every other row is sent back as read, only
// our TXT values are added or removed, limits are checked before writing
// and the result is verified by a re-read (see README.md). It
// returns the rows added and deleted by the last successful cycle.
func (p *Provider) change(ctx context.Context, z, sld, tld string, adds, dels []api.Host) (added, deleted []api.Host, err error) {
	c, err := p.apiClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := p.lockZone(ctx, z)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	backoff := 2 * time.Second
	var cumDeleted []api.Host
	for cycle := 1; ; cycle++ {
		// Write only after a confirmed read in this cycle.
		res, err := c.GetHosts(ctx, sld, tld)
		if err != nil {
			return nil, cumDeleted, fmt.Errorf("namecheap: reading zone %s before writing (nothing written): %w", z, err)
		}
		if !sameDomain(res.Domain, z) {
			return nil, cumDeleted, fmt.Errorf("namecheap: getHosts for %s answered for domain %q; nothing written", z, res.Domain)
		}
		p.mu.Lock()
		p.confirmed[z] = true
		p.mu.Unlock()
		next, add, del := plan(res.Hosts, adds, dels)
		if len(add) == 0 && len(del) == 0 {
			// Nothing to do: no write.
			return add, cumDeleted, nil
		}
		if len(next) == 0 {
			// Whether setHosts accepts an empty list, or restores the parking
			// records, is not documented
			// (https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/):
			// leave the last record(s) in
			// place rather than find out on a user's zone, and say so: the
			// caller keeps them on its list of records to remove.
			var rows []string
			for _, h := range del {
				rows = append(rows, rowOf(h).String())
			}
			p.log.Warn("namecheap: not sending an empty host list; the record(s) stay in the zone", "zone", z, "records", len(del))
			return nil, cumDeleted, &RefusedError{Zone: z, Reason: fmt.Sprintf("removing %s would leave the zone with no host records, and what setHosts does with an empty list is not documented, so they stay; delete them in the Namecheap dashboard (Advanced DNS), or keep another record in the zone", strings.Join(rows, ", "))}
		}
		if err := p.checkWrite(z, res, next); err != nil {
			return nil, cumDeleted, err
		}
		p.log.Debug("namecheap setHosts", "zone", z, "cycle", cycle, "records", len(next), "adding", len(add), "deleting", len(del))
		err = c.SetHosts(ctx, sld, tld, res.EmailType, next)
		if err != nil {
			if api.IsRetryable(err) && cycle < p.cfg.MaxCycles {
				wait := backoff
				if api.IsThrottle(err) {
					wait = max(wait, api.ThrottleBackoff)
				}
				p.log.Debug("namecheap setHosts retry", "zone", z, "error", err.Error(), "delay", wait)
				if err := p.clock.Sleep(ctx, wait); err != nil {
					return nil, cumDeleted, err
				}
				backoff = min(2*wait, 30*time.Second)
				continue
			}
			return nil, cumDeleted, fmt.Errorf("namecheap: writing zone %s: %w", z, err)
		}
		cumDeleted = append(cumDeleted, del...)
		after, err := c.GetHosts(ctx, sld, tld)
		if err != nil {
			return nil, cumDeleted, fmt.Errorf("namecheap: zone %s was written but the verifying getHosts failed, so the result is unknown: %w", z, err)
		}
		if sameZone(after.Hosts, next) && strings.EqualFold(after.EmailType, res.EmailType) {
			return add, cumDeleted, nil
		}
		// A row read and sent back unchanged is missing or altered: our
		// own write damaged the zone (the API dropped or rewrote rows it
		// did not like), or another writer removed it at that moment. The
		// zone read now must not become the base of another cycle: put the
		// rows back in one more write, or fail naming each one lost.
		if kept := subtract(next, add); len(subtract(kept, after.Hosts)) > 0 {
			if err := p.repair(ctx, c, z, sld, tld, res.EmailType, next, kept, after); err != nil {
				return nil, cumDeleted, err
			}
			if cycle >= p.cfg.MaxCycles {
				return nil, cumDeleted, &LostUpdateError{Zone: z, Cycles: cycle}
			}
			continue
		}
		// Every row we kept is there, but rows we did not send appeared or
		// ours are missing: someone else wrote the zone after our setHosts,
		// possibly from a stale read that drops our change. The next cycle
		// re-reads and re-applies what is missing, or finds nothing to do.
		p.log.Warn("namecheap zone changed after write; redoing the cycle", "zone", z, "cycle", cycle)
		if cycle >= p.cfg.MaxCycles {
			return nil, cumDeleted, &LostUpdateError{Zone: z, Cycles: cycle}
		}
	}
}

// plan computes the full host list to send. Rows keep every field as read;
// adds already present (same name, TXT, exact value) are skipped; each del
// removes at most one row with the same name, type TXT and exact value.
func plan(cur []api.Host, adds, dels []api.Host) (next, added, deleted []api.Host) {
	next = make([]api.Host, 0, len(cur)+len(adds))
	next = append(next, cur...)
	for _, d := range dels {
		for i, h := range next {
			if isTXT(h, d.Name, d.Address) {
				deleted = append(deleted, h)
				next = append(next[:i:i], next[i+1:]...)
				break
			}
		}
	}
	for _, a := range adds {
		present := false
		for _, h := range next {
			if isTXT(h, a.Name, a.Address) {
				present = true
				break
			}
		}
		if !present {
			next = append(next, a)
			added = append(added, a)
		}
	}
	return next, added, deleted
}

func isTXT(h api.Host, name, value string) bool {
	return strings.EqualFold(h.Type, "TXT") && strings.EqualFold(h.Name, name) && h.Address == value
}

// checkWrite refuses a write that cannot round-trip or that setHosts would
// reject: the limits of Namecheap's DNS limits page
// (https://www.namecheap.com/support/knowledgebase/article.aspx/10058/10/namecheap-dns-limits/)
// and state setHosts cannot carry, such as the Dynamic DNS flag.
func (p *Provider) checkWrite(z string, res *api.HostsResult, next []api.Host) error {
	refuse := func(format string, a ...any) error {
		return &RefusedError{Zone: z, Reason: fmt.Sprintf(format, a...)}
	}
	if !p.cfg.AllowDDNS {
		var ddns []string
		for _, h := range res.Hosts {
			if h.IsDDNSEnabled {
				ddns = append(ddns, h.Name+" "+h.Type)
			}
		}
		if len(ddns) > 0 {
			return refuse("host(s) %s have Dynamic DNS enabled and setHosts cannot keep that flag, so they would become plain records; set %s=true to accept that, or delegate _acme-challenge to another zone with a CNAME", strings.Join(ddns, ", "), EnvAllowDDNS)
		}
	}
	// setHosts saves MX rows only when the zone's EmailType is MX
	// (https://github.com/billputer/go-namecheap/pull/7): in a zone with
	// Namecheap-managed mail (MXE, FWD, OX, GMAIL) or none, resending its MX
	// rows would delete them.
	if et := res.EmailType; et != "" && !strings.EqualFold(et, "MX") {
		var mx []string
		for _, h := range next {
			if strings.EqualFold(h.Type, "MX") {
				mx = append(mx, h.Name+" MX "+h.Address)
			}
		}
		if len(mx) > 0 {
			return refuse("the zone's mail setting is EmailType %s and it holds MX record(s) %s, which setHosts keeps only with EmailType MX, so any write would delete them; write the challenge records elsewhere (a CNAME from _acme-challenge to a zone without MX records, e.g. a challenge server), or set the domain's Mail Settings to Custom MX in the Namecheap dashboard", et, strings.Join(mx, ", "))
		}
	}
	for _, h := range next {
		// The server strips surrounding quotes, so such a row, written
		// back, would change.
		if strings.EqualFold(h.Type, "TXT") && unquote(h.Address) != h.Address {
			return refuse("TXT %s holds %q with surrounding quotes, which setHosts strips, so any write would change it; remove the quotes in the Namecheap dashboard (Advanced DNS; the value is published without them anyway)", h.Name, h.Address)
		}
	}
	if len(next) > maxRecords {
		return refuse("the zone would hold %d records and Namecheap allows %d; remove unused records (old _acme-challenge TXTs included) or delegate _acme-challenge with a CNAME", len(next), maxRecords)
	}
	for _, h := range next {
		if h.Name == "" || h.Type == "" || h.Address == "" {
			return refuse("getHosts returned a row with an empty Name, Type or Address (%q %q), which setHosts cannot take back; repair it in the Namecheap dashboard", h.Name, h.Type)
		}
		if len(h.Name) > maxHostName {
			return refuse("host name %q is %d characters and Namecheap accepts %d; shorten it", h.Name, len(h.Name), maxHostName)
		}
		ttl, err := parseInt(h.TTL)
		if err != nil || ttl < minTTL || ttl > maxTTL {
			return refuse("record %s %s has TTL %q, outside %d–%d, which setHosts rejects; fix it in the Namecheap dashboard", h.Name, h.Type, h.TTL, minTTL, maxTTL)
		}
		if _, err := parseInt(h.MXPref); err != nil {
			return refuse("record %s %s has MXPref %q, which cannot be sent back unchanged", h.Name, h.Type, h.MXPref)
		}
		if strings.EqualFold(h.Type, "TXT") && len(h.Address) > maxTXT {
			return refuse("TXT %s is %d characters and Namecheap accepts %d", h.Name, len(h.Address), maxTXT)
		}
	}
	return nil
}

// sameZone compares two host lists as multisets of (Name, Type, Address,
// MXPref, TTL) in the sense of api.SameRecord.
func sameZone(a, b []api.Host) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, h := range a {
		count[recordKey(h)]++
	}
	for _, h := range b {
		k := recordKey(h)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

func recordKey(h api.Host) string { return api.RecordKey(h) }
