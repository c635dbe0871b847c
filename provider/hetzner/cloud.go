package hetzner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// The Hetzner Cloud API's DNS part (https://docs.hetzner.cloud/#zones):
// zones are addressed by ID or name, records are grouped in RRsets
// (name, type, one TTL, values), and a change is an action that runs
// asynchronously and is polled until it ends.

// actionPoll is the pause between two looks at a running action.
const actionPoll = time.Second

type cloudZone struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type cloudRRset struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	TTL     *int   `json:"ttl"`
	Records []struct {
		Value string `json:"value"`
	} `json:"records"`
}

// action is the "action" object every write answers with
// (https://docs.hetzner.cloud/#actions).
type action struct {
	ID       int64  `json:"id"`
	Command  string `json:"command"`
	Status   string `json:"status"` // running, success, error
	Progress int    `json:"progress"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// cloudZones lists the project's zones (GET /zones, every page).
func (c *client) cloudZones(ctx context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	err := c.pages(ctx, request{op: "listing zones", method: http.MethodGet, path: "zones"}, func(raw json.RawMessage) (pagination, error) {
		var v struct {
			Zones []cloudZone `json:"zones"`
			Meta  struct {
				Pagination pagination `json:"pagination"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return pagination{}, err
		}
		for _, z := range v.Zones {
			out = append(out, libdns.Zone{Name: strings.ToLower(strings.TrimSuffix(z.Name, ".")) + "."})
		}
		return v.Meta.Pagination, nil
	})
	return out, err
}

// checkCloudZone asks for zone z by name (GET /zones?name=), so that a
// zone the project lacks is one clear error before any write.
func (c *client) checkCloudZone(ctx context.Context, z string) error {
	var v struct {
		Zones []cloudZone `json:"zones"`
	}
	if err := c.do(ctx, request{op: "finding zone " + z, method: http.MethodGet, path: "zones", query: url.Values{"name": {z}}}, &v); err != nil {
		return err
	}
	for _, zz := range v.Zones {
		if strings.EqualFold(strings.TrimSuffix(zz.Name, "."), z) {
			return nil
		}
	}
	return fmt.Errorf("hetzner: no zone %s in the Cloud API token's project; check the token's project, or whether the zone is still in the DNS Console (then set %s instead)", z, EnvAPIKey)
}

// rrsets lists zone z's RRsets of type typ ("" for all; GET
// /zones/{name}/rrsets, every page).
func (c *client) rrsets(ctx context.Context, z, typ string) ([]cloudRRset, error) {
	q := url.Values{}
	if typ != "" {
		q.Set("type", typ)
	}
	var out []cloudRRset
	err := c.pages(ctx, request{op: "reading records of " + z, method: http.MethodGet, path: "zones/" + url.PathEscape(z) + "/rrsets", query: q}, func(raw json.RawMessage) (pagination, error) {
		var v struct {
			RRsets []cloudRRset `json:"rrsets"`
			Meta   struct {
				Pagination pagination `json:"pagination"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return pagination{}, err
		}
		out = append(out, v.RRsets...)
		return v.Meta.Pagination, nil
	})
	return out, err
}

// cloudRecords is every record of zone z, one per value.
func (c *client) cloudRecords(ctx context.Context, z string) ([]libdns.Record, error) {
	sets, err := c.rrsets(ctx, z, "")
	if err != nil {
		return nil, err
	}
	var out []libdns.Record
	for _, s := range sets {
		for _, r := range s.Records {
			rr := libdns.RR{Name: s.Name, Type: s.Type, Data: r.Value, TTL: time.Duration(deref(s.TTL)) * time.Second}
			if s.Type == "TXT" {
				rr.Data = cloudText(r.Value)
			}
			if rec, err := rr.Parse(); err == nil {
				out = append(out, rec)
			} else {
				out = append(out, rr)
			}
		}
	}
	return out, nil
}

// cloudAppend adds the TXT values not already there: one add_records
// action per name (the API changes one RRset per call), naming only our
// values, so another client's values stay. A name without TXT gets our
// TTL; one with TXT keeps its TTL (the API refuses a different one).
func (p *Provider) cloudAppend(ctx context.Context, c *client, zoneArg string, recs []libdns.Record) ([]libdns.Record, error) {
	z := zoneName(zoneArg)
	wants, err := wantsOf(z, recs)
	if err != nil || len(wants) == 0 {
		return nil, err
	}
	sets, unlock, err := p.cloudPrepare(ctx, c, z)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var done []libdns.Record
	for _, name := range namesOf(wants) {
		set, exists := sets[name]
		have := map[string]bool{}
		for _, r := range set.Records {
			have[cloudText(r.Value)] = true
		}
		body := struct {
			TTL     *int            `json:"ttl,omitempty"`
			Records []cloudRecValue `json:"records"`
		}{TTL: set.TTL}
		ttl := deref(set.TTL)
		var added []libdns.Record
		for _, w := range wants {
			if w.name != name || have[w.text] {
				continue
			}
			have[w.text] = true
			if !exists && body.TTL == nil {
				ttl = p.ttlFor(w.ttl)
				body.TTL = &ttl
			}
			body.Records = append(body.Records, cloudRecValue{Value: cloudQuote(w.text)})
			added = append(added, libdns.TXT{Name: name, TTL: time.Duration(ttl) * time.Second, Text: w.text})
		}
		if len(added) == 0 {
			continue
		}
		op := fmt.Sprintf("adding TXT values at %s in %s", name, z)
		if err := c.rrsetAction(ctx, op, z, name, "add_records", body); err != nil {
			return done, err
		}
		done = append(done, added...)
	}
	if len(done) > 0 {
		p.log("created", z, len(done))
	}
	return done, nil
}

// cloudDelete removes exactly the given TXT values: one remove_records
// action per name, naming the values as stored. Values of others stay;
// Hetzner deletes an RRset whose last value goes. A value or RRset
// already gone counts as deleted.
func (p *Provider) cloudDelete(ctx context.Context, c *client, zoneArg string, recs []libdns.Record) ([]libdns.Record, error) {
	z := zoneName(zoneArg)
	wants, err := wantsOf(z, recs)
	if err != nil || len(wants) == 0 {
		return nil, err
	}
	sets, unlock, err := p.cloudPrepare(ctx, c, z)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var done []libdns.Record
	for _, name := range namesOf(wants) {
		set := sets[name]
		var body struct {
			Records []cloudRecValue `json:"records"`
		}
		var removed []libdns.Record
		for _, r := range set.Records {
			text := cloudText(r.Value)
			if !slices.ContainsFunc(wants, func(w want) bool { return w.name == name && w.text == text }) {
				continue
			}
			body.Records = append(body.Records, cloudRecValue{Value: r.Value})
			removed = append(removed, libdns.TXT{Name: name, TTL: time.Duration(deref(set.TTL)) * time.Second, Text: text})
		}
		if len(removed) == 0 {
			continue
		}
		op := fmt.Sprintf("removing TXT values at %s in %s", name, z)
		err := c.rrsetAction(ctx, op, z, name, "remove_records", body)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == "not_found" {
			continue // the RRset is gone already
		}
		if err != nil {
			return done, err
		}
		done = append(done, removed...)
	}
	if len(done) > 0 {
		p.log("deleted", z, len(done))
	}
	return done, nil
}

type cloudRecValue struct {
	Value string `json:"value"`
}

// cloudPrepare checks zone z exists, takes its lock and reads its TXT
// RRsets (one paginated read), keyed by lower-case name.
func (p *Provider) cloudPrepare(ctx context.Context, c *client, z string) (map[string]cloudRRset, func(), error) {
	if err := c.checkCloudZone(ctx, z); err != nil {
		return nil, nil, err
	}
	unlock := p.lock(z)
	list, err := c.rrsets(ctx, z, "TXT")
	if err != nil {
		unlock()
		return nil, nil, err
	}
	sets := map[string]cloudRRset{}
	for _, s := range list {
		if s.Type == "TXT" {
			sets[strings.ToLower(s.Name)] = s
		}
	}
	return sets, unlock, nil
}

// rrsetAction posts an RRset action (POST
// /zones/{zone}/rrsets/{name}/TXT/actions/{verb}) and waits for it.
func (c *client) rrsetAction(ctx context.Context, op, z, name, verb string, body any) error {
	var res struct {
		Action action `json:"action"`
	}
	path := "zones/" + url.PathEscape(z) + "/rrsets/" + url.PathEscape(name) + "/TXT/actions/" + verb
	if err := c.do(ctx, request{op: op, method: http.MethodPost, path: path, body: body}, &res); err != nil {
		return err
	}
	return c.waitAction(ctx, op, res.Action)
}

// waitAction polls action a (GET /actions/{id}) every actionPoll until
// it reports success, for at most maxWait. The error state is an
// ActionError with Hetzner's code and message.
func (c *client) waitAction(ctx context.Context, op string, a action) error {
	deadline := c.api.Now().Add(c.api.MaxWait)
	for {
		switch a.Status {
		case "success":
			return nil
		case "error":
			e := &ActionError{Op: op, ID: a.ID}
			if a.Error != nil {
				e.Code, e.Message = a.Error.Code, a.Error.Message
			}
			return e
		case "running", "":
		default:
			return fmt.Errorf("hetzner: %s: action %d is in the unknown state %q", op, a.ID, a.Status)
		}
		if a.ID == 0 {
			return fmt.Errorf("hetzner: %s: the answer holds no action to wait for", op)
		}
		if !c.api.Now().Before(deadline) {
			return fmt.Errorf("hetzner: %s: action %d still running after %v (%d%%); look at the zone in the Hetzner Console", op, a.ID, c.api.MaxWait, a.Progress)
		}
		if err := c.api.Sleep(ctx, actionPoll); err != nil {
			return fmt.Errorf("hetzner: %s: waiting for action %d: %w", op, a.ID, err)
		}
		var res struct {
			Action action `json:"action"`
		}
		id := a.ID
		if err := c.do(ctx, request{op: op + ": polling action " + strconv.FormatInt(id, 10), method: http.MethodGet, path: "actions/" + strconv.FormatInt(id, 10)}, &res); err != nil {
			return err
		}
		a = res.Action
		if a.ID == 0 {
			a.ID = id
		}
	}
}

// namesOf is the names of wants, each once, in order.
func namesOf(wants []want) []string {
	var names []string
	for _, w := range wants {
		if !slices.Contains(names, w.name) {
			names = append(names, w.name)
		}
	}
	return names
}

// cloudQuote is a TXT value as the Cloud API takes it: in double quotes,
// with quotes and backslashes escaped (zone-file syntax). Challenge
// values (base64url) need no escaping.
func cloudQuote(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(text) + `"`
}

// cloudText is the text of a Cloud API TXT value: one or more quoted
// strings (joined, escapes undone), or the value itself when unquoted.
func cloudText(v string) string {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var b strings.Builder
	in, esc := false, false
	for _, ch := range v {
		switch {
		case esc:
			b.WriteRune(ch)
			esc = false
		case in && ch == '\\':
			esc = true
		case ch == '"':
			in = !in
		case in:
			b.WriteRune(ch)
		}
	}
	return b.String()
}
