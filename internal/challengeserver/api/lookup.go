package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// LookupRequest is the body of POST /lookup: a name and an RR type
// mnemonic ("TXT", "CNAME", "SOA", "NS", "A", "AAAA", "CAA").
type LookupRequest struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// lookupTypes are the types /lookup asks for; it is a propagation check, not
// a general resolver.
var lookupTypes = map[string]uint16{
	"TXT": dns.TypeTXT, "CNAME": dns.TypeCNAME, "SOA": dns.TypeSOA, "NS": dns.TypeNS,
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CAA": dns.TypeCAA,
}

func (a *API) lookup(w http.ResponseWriter, r *http.Request) int {
	if a.cfg.Lookup == nil {
		return writeError(w, http.StatusNotFound, CodeNotFound, "lookup is not enabled on this server")
	}
	acc, code, ok := a.authenticate(w, r)
	if !ok {
		return code
	}
	if !a.lookLim.take(acc.Username, a.cfg.Now()) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(1/float64(a.cfg.LookupRate)))))
		return writeError(w, http.StatusTooManyRequests, CodeTooManyRequests, "too many lookups for this account; retry later")
	}
	body, code, ok := readBody(w, r)
	if !ok {
		return code
	}
	var req LookupRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return writeError(w, http.StatusBadRequest, CodeMalformedJSON, `the body must be {"name":"...","type":"TXT"}`)
	}
	qtype, ok := lookupTypes[strings.ToUpper(req.Type)]
	if !ok {
		return writeError(w, http.StatusBadRequest, CodeBadLookup, "type must be one of TXT, CNAME, SOA, NS, A, AAAA, CAA")
	}
	name := dns.Fqdn(strings.TrimSpace(req.Name))
	if _, ok := dns.IsDomainName(name); !ok || name == "." {
		return writeError(w, http.StatusBadRequest, CodeBadLookup, "name must be a domain name")
	}
	res, err := a.cfg.Lookup(r.Context(), name, qtype)
	if err != nil {
		return writeError(w, http.StatusBadGateway, CodeLookupFailed, err.Error())
	}
	return writeJSON(w, http.StatusOK, res)
}
