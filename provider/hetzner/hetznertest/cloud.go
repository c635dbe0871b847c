package hetznertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type fakeAction struct {
	id      int64
	command string
	polls   int // looks left while "running"
	fail    *actionFailure
}

type actionFailure struct{ code, message string }

// FailNextAction makes the next Cloud API RRset action end in the "error"
// state with code and message, its change not made.
func (s *Server) FailNextAction(code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAction = append(s.failAction, actionFailure{code, message})
}

// cloudError is an error answer of the Cloud API
// (https://docs.hetzner.cloud/#errors).
func cloudError(status int, code, msg string) answer {
	return answer{status: status, body: map[string]any{"error": map[string]any{"code": code, "message": msg, "details": map[string]any{}}}}
}

// handleCloud answers a Cloud API request; s.mu is held.
func (s *Server) handleCloud(r *http.Request, authorized bool) (answer, bool) {
	if len(s.throttle) > 0 {
		ra := s.throttle[0]
		s.throttle = s.throttle[1:]
		a := cloudError(http.StatusTooManyRequests, "rate_limit_exceeded", "limit of 3600 requests per hour reached")
		reset := time.Now().Add(ra + time.Second - 1).Unix()
		a.header = http.Header{"Ratelimit-Limit": {"3600"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {strconv.FormatInt(reset, 10)}}
		return a, false
	}
	if len(s.failures) > 0 {
		st := s.failures[0]
		s.failures = s.failures[1:]
		code := map[int]string{http.StatusConflict: "conflict", http.StatusLocked: "locked", http.StatusForbidden: "forbidden"}[st]
		if code == "" {
			code = "service_error"
		}
		return cloudError(st, code, http.StatusText(st)), false
	}
	if !authorized {
		return cloudError(http.StatusUnauthorized, "unauthorized", "unable to authenticate"), false
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/v1/"), "/"), "/")
	for i, p := range parts {
		parts[i], _ = url.PathUnescape(p)
	}
	q := r.URL.Query()
	get := r.Method == http.MethodGet
	switch {
	case len(parts) == 1 && parts[0] == "zones" && get:
		var zs []any
		for _, id := range s.zoneIDs() {
			if n := q.Get("name"); n != "" && n != s.zones[id] {
				continue
			}
			zs = append(zs, map[string]any{"id": cloudZoneID(id), "name": s.zones[id], "mode": "primary", "ttl": 3600, "status": "ok"})
		}
		return s.page(q, "zones", zs), false
	case len(parts) == 2 && parts[0] == "actions" && get:
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		a, ok := s.actions[id]
		if !ok {
			return cloudError(http.StatusNotFound, "not_found", "action not found"), false
		}
		if a.polls > 0 {
			a.polls--
		}
		return answer{status: http.StatusOK, body: map[string]any{"action": a.json()}}, false
	case len(parts) >= 3 && parts[0] == "zones" && parts[2] == "rrsets":
		zid := s.zoneByIDOrName(parts[1])
		if zid == "" {
			return cloudError(http.StatusNotFound, "not_found", "zone not found"), false
		}
		switch {
		case len(parts) == 3 && get:
			return s.page(q, "rrsets", s.rrsets(zid, q.Get("type"), q.Get("name"))), false
		case len(parts) == 7 && parts[5] == "actions" && r.Method == http.MethodPost:
			return s.rrsetAction(r, zid, parts[3], parts[4], parts[6])
		}
	}
	return cloudError(http.StatusNotFound, "not_found", "not found"), false
}

func (s *Server) zoneIDs() []string {
	ids := make([]string, 0, len(s.zones))
	for id := range s.zones {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return s.zones[ids[i]] < s.zones[ids[j]] })
	return ids
}

// cloudZoneID is a zone's ID as the Cloud API gives it: a number.
func cloudZoneID(id string) int64 {
	n, _ := strconv.ParseInt(id, 16, 64)
	return n
}

func (s *Server) zoneByIDOrName(v string) string {
	for id, name := range s.zones {
		if name == strings.ToLower(v) || strconv.FormatInt(cloudZoneID(id), 10) == v {
			return id
		}
	}
	return ""
}

// rrsets groups zone zid's records into RRsets (name, type), sorted; the
// TTL of an RRset is its first record's (0: none, the zone's default).
func (s *Server) rrsets(zid, typ, name string) []any {
	type key struct{ name, typ string }
	sets := map[key][]Record{}
	var keys []key
	for _, r := range s.sortedRecords(zid) {
		if (typ != "" && r.Type != typ) || (name != "" && r.Name != name) {
			continue
		}
		k := key{r.Name, r.Type}
		if sets[k] == nil {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], r)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].typ < keys[j].typ
	})
	out := []any{}
	for _, k := range keys {
		recs := []any{}
		for _, r := range sets[k] {
			recs = append(recs, map[string]any{"value": r.Value, "comment": ""})
		}
		var ttl any
		if t := sets[k][0].TTL; t != 0 {
			ttl = t
		}
		out = append(out, map[string]any{"id": k.name + "/" + k.typ, "name": k.name, "type": k.typ, "ttl": ttl,
			"records": recs, "labels": map[string]any{}, "protection": map[string]any{"change": false}, "zone": cloudZoneID(zid)})
	}
	return out
}

// rrsetAction runs add_records or remove_records on RRset (name, typ) of
// zone zid and answers 201 with a running action.
func (s *Server) rrsetAction(r *http.Request, zid, name, typ, verb string) (answer, bool) {
	var body struct {
		TTL     *int `json:"ttl"`
		Records []struct {
			Value string `json:"value"`
		} `json:"records"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return cloudError(http.StatusBadRequest, "json_error", "invalid JSON"), false
	}
	if len(body.Records) == 0 {
		return cloudError(http.StatusUnprocessableEntity, "invalid_input", "records must not be empty"), false
	}
	var set []*Record
	for _, rec := range s.records {
		if rec.ZoneID == zid && rec.Name == name && rec.Type == typ {
			set = append(set, rec)
		}
	}
	var fail *actionFailure
	if len(s.failAction) > 0 {
		fail = &s.failAction[0]
		s.failAction = s.failAction[1:]
	}
	switch verb {
	case "add_records":
		if typ == "TXT" {
			for _, v := range body.Records {
				if len(v.Value) < 2 || !strings.HasPrefix(v.Value, `"`) || !strings.HasSuffix(v.Value, `"`) {
					return cloudError(http.StatusUnprocessableEntity, "invalid_input", fmt.Sprintf("TXT record value %s must be enclosed in double quotes", v.Value)), false
				}
			}
		}
		ttl := 0
		if len(set) > 0 {
			ttl = set[0].TTL
			if body.TTL != nil && ttl != 0 && *body.TTL != ttl {
				return cloudError(http.StatusUnprocessableEntity, "invalid_input", "ttl must match the TTL of the existing RRSet"), false
			}
		} else if body.TTL != nil {
			ttl = *body.TTL
		}
		if fail == nil {
		values:
			for _, v := range body.Records {
				for _, rec := range set {
					if rec.Value == v.Value {
						continue values
					}
				}
				rec := &Record{ID: s.id(), ZoneID: zid, Type: typ, Name: name, Value: v.Value, TTL: ttl}
				s.records[rec.ID] = rec
				set = append(set, rec)
			}
		}
	case "remove_records":
		if len(set) == 0 {
			return cloudError(http.StatusNotFound, "not_found", "rrset not found"), false
		}
		if fail == nil {
			for _, v := range body.Records {
				for _, rec := range set {
					if rec.Value == v.Value {
						delete(s.records, rec.ID)
					}
				}
			}
		}
	default:
		return cloudError(http.StatusNotFound, "not_found", "action not found"), false
	}
	s.nextAction++
	a := &fakeAction{id: 0x3a000 + s.nextAction, command: verb + "_rrset", polls: s.opts.ActionPolls, fail: fail}
	s.actions[a.id] = a
	return answer{status: http.StatusCreated, body: map[string]any{"action": a.json()}}, fail == nil
}

func (a *fakeAction) json() map[string]any {
	m := map[string]any{"id": a.id, "command": a.command, "status": "running", "progress": 0, "error": nil,
		"started": "2026-12-01T00:00:00+00:00", "finished": nil, "resources": []any{}}
	if a.polls == 0 {
		m["progress"], m["finished"] = 100, "2026-12-01T00:00:02+00:00"
		m["status"] = "success"
		if a.fail != nil {
			m["status"], m["error"] = "error", map[string]any{"code": a.fail.code, "message": a.fail.message}
		}
	}
	return m
}
