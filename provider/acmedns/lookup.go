package acmedns

import (
	"context"
	"net/http"
	"strings"
)

// LookupServer is one authoritative server's answer in a LookupResult.
type LookupServer struct {
	NS            string   `json:"ns"`
	Address       string   `json:"address"`
	Rcode         string   `json:"rcode"`
	Authoritative bool     `json:"authoritative"`
	Answer        []string `json:"answer"`
	TXT           []string `json:"txt"`
	Error         string   `json:"error"`
}

// LookupResult is the reply of a strictacme serve POST /lookup.
type LookupResult struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Zone    string         `json:"zone"`
	Servers []LookupServer `json:"servers"`
}

// Lookup asks the server of account a to query every authoritative server
// of name's zone for qtype ("TXT", "CNAME", …) directly, without a cache
// (strictacme serve only; acme-dns answers 404, an *APIError). It sends no
// DNS itself.
func Lookup(ctx context.Context, client *http.Client, a Account, serverURL, name, qtype string) (*LookupResult, error) {
	if a.ServerURL != "" {
		serverURL = a.ServerURL
	}
	u, err := endpoint(serverURL, "lookup")
	if err != nil {
		return nil, err
	}
	var res LookupResult
	err = call{client: client, op: "lookup", url: u, body: map[string]string{"name": name, "type": strings.ToUpper(qtype)},
		hdr: map[string]string{"X-Api-User": a.Username, "X-Api-Key": a.Password}}.do(ctx, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// CNAMEStatus tells whether every authoritative server in res answers a
// CNAME to target (any case, trailing dot optional), and lists the servers
// that do not.
func CNAMEStatus(res *LookupResult, target string) (ok bool, missing []string) {
	want := strings.ToLower(strings.TrimSuffix(target, ".")) + "."
	for _, s := range res.Servers {
		found := false
		for _, rr := range s.Answer {
			f := strings.Fields(rr)
			if len(f) >= 5 && strings.EqualFold(f[3], "CNAME") && strings.ToLower(f[4]) == want {
				found = true
			}
		}
		if !found {
			missing = append(missing, s.NS)
		}
	}
	return len(res.Servers) > 0 && len(missing) == 0, missing
}
