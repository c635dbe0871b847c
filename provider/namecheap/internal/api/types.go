// Package api speaks the Namecheap XML API: it builds the form-encoded
// requests, sends them through a rate limiter, retries what may be retried,
// and decodes the <ApiResponse> envelope with encoding/xml. It knows nothing
// about libdns or ACME; the provider package above it does the
// read-modify-write of zones.
//
// Sources: Namecheap's API docs, https://www.namecheap.com/support/api/intro/
// (request format: https://www.namecheap.com/support/api/global-parameters/;
// commands: https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/
// and
// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/;
// errors: https://www.namecheap.com/support/api/error-codes/).
package api

import "strings"

// Endpoints of the two Namecheap systems (the method pages, and
// https://www.namecheap.com/support/knowledgebase/article.aspx/763/63/what-is-sandbox/).
// The sandbox has its
// own account, API key and whitelist.
const (
	ProductionEndpoint = "https://api.namecheap.com/xml.response"
	SandboxEndpoint    = "https://api.sandbox.namecheap.com/xml.response"
)

// Command names in Namecheap's canonical spelling (the method pages). The server
// matches them case-insensitively and echoes them lower-cased in
// <RequestedCommand>.
const (
	CmdGetHosts = "namecheap.domains.dns.getHosts"
	CmdSetHosts = "namecheap.domains.dns.setHosts"
	CmdGetList  = "namecheap.domains.getList"
)

// Host is one row of a zone as getHosts returns it and setHosts takes it
// (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/,
// https://www.namecheap.com/support/api/methods/domains-dns/set-hosts/).
// Every field is kept as the text the server sent so
// that writing the row back is byte-identical: MXPref and TTL stay strings
// because a zone may hold values we have no business normalising.
type Host struct {
	HostId             string // server-assigned; regenerated on every setHosts, never a key
	Name               string // label relative to the zone: "@", "www", "_acme-challenge.sub"
	Type               string // A, AAAA, ALIAS, CAA, CNAME, MX, MXE, NS, TXT, URL, URL301, FRAME
	Address            string // the value, XML-decoded
	MXPref             string // returned for every type, usually "10"
	TTL                string // seconds; "1799" is the UI's "Automatic"
	AssociatedAppTitle string
	FriendlyName       string
	IsActive           bool
	IsDDNSEnabled      bool // cannot be set by setHosts: a round trip clears it (acme.sh#2107)
}

// HostsResult is a confirmed getHosts answer: Status="OK" and a
// DomainDNSGetHostsResult element were present. An empty Hosts is a real
// empty zone, never a parse failure
// (https://github.com/acmesh-official/acme.sh/issues/6963).
type HostsResult struct {
	Domain        string // as echoed by the server, e.g. "example.co.uk"
	EmailType     string // MX, MXE, FWD, OX, GMAIL, NONE or "" (get-hosts doc); send back as read
	IsUsingOurDNS bool
	Hosts         []Host
}

// Domain is one entry of namecheap.domains.getList
// (http://www.namecheap.com/support/api/domains/namecheap.domains.getlist.aspx).
type Domain struct {
	Name     string
	IsOurDNS bool
	User     string
}

// hostnameTypes hold a host name in Address; one trailing dot is not
// significant when comparing them.
var hostnameTypes = map[string]bool{"CNAME": true, "ALIAS": true, "NS": true, "MX": true, "MXE": true}

// HostnameValued reports whether records of type t hold a host name in
// Address (CNAME, ALIAS, NS, MX, MXE), where one trailing dot is not
// significant.
func HostnameValued(t string) bool { return hostnameTypes[strings.ToUpper(t)] }

// RecordKey is the identity of a record as this package compares zones: Name
// and Type case-insensitive, MXPref and TTL exact, Address exact except one
// trailing dot on hostname-valued types. Two rows are the same record when
// their keys are equal.
func RecordKey(h Host) string {
	t := strings.ToUpper(h.Type)
	addr := h.Address
	if hostnameTypes[t] {
		addr = strings.TrimSuffix(addr, ".")
	}
	return strings.ToLower(h.Name) + "\x00" + t + "\x00" + addr + "\x00" + h.MXPref + "\x00" + h.TTL
}
