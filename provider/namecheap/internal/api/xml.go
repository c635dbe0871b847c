package api

import (
	"encoding/xml"
	"strings"
)

// envelope is <ApiResponse>
// (https://www.namecheap.com/support/api/methods/domains-dns/get-hosts/).
// No namespace is required: the
// live API uses http://api.namecheap.com/xml.response, one capture https://….
type envelope struct {
	XMLName          xml.Name         `xml:"ApiResponse"`
	Status           string           `xml:"Status,attr"`
	Errors           []xmlError       `xml:"Errors>Error"`
	RequestedCommand string           `xml:"RequestedCommand"`
	CommandResponse  *commandResponse `xml:"CommandResponse"`
}

type xmlError struct {
	Number string `xml:"Number,attr"`
	Text   string `xml:",chardata"`
}

type commandResponse struct {
	Type     string          `xml:"Type,attr"`
	GetHosts *getHostsResult `xml:"DomainDNSGetHostsResult"`
	SetHosts *setHostsResult `xml:"DomainDNSSetHostsResult"`
	GetList  *getListResult  `xml:"DomainGetListResult"`
	Paging   *paging         `xml:"Paging"`
}

type getHostsResult struct {
	Domain        string `xml:"Domain,attr"`
	EmailType     string `xml:"EmailType,attr"`
	IsUsingOurDNS string `xml:"IsUsingOurDNS,attr"`
	// The docs show <Host>, the live API sends <host> (lego's captured
	// fixture providers/dns/namecheap/internal/fixtures/getHosts_success1.xml):
	// take
	// any child and keep those whose name is host in any case.
	Rows []anyElement `xml:",any"`
}

type anyElement struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
}

func (e anyElement) attr(name string) string {
	for _, a := range e.Attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

type setHostsResult struct {
	Domain    string `xml:"Domain,attr"`
	IsSuccess string `xml:"IsSuccess,attr"`
}

type getListResult struct {
	Domains []anyElement `xml:",any"`
}

type paging struct {
	TotalItems  int `xml:"TotalItems"`
	CurrentPage int `xml:"CurrentPage"`
	PageSize    int `xml:"PageSize"`
}

// isTrue reads Namecheap's booleans, which come as true/True/false/False
// (lexicon's Namecheap provider notes both spellings).
func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }

func (r *getHostsResult) hosts() []Host {
	out := make([]Host, 0, len(r.Rows))
	for _, e := range r.Rows {
		if !strings.EqualFold(e.XMLName.Local, "host") {
			continue
		}
		out = append(out, Host{
			HostId:             e.attr("HostId"),
			Name:               e.attr("Name"),
			Type:               e.attr("Type"),
			Address:            e.attr("Address"),
			MXPref:             e.attr("MXPref"),
			TTL:                e.attr("TTL"),
			AssociatedAppTitle: e.attr("AssociatedAppTitle"),
			FriendlyName:       e.attr("FriendlyName"),
			IsActive:           isTrue(e.attr("IsActive")),
			IsDDNSEnabled:      isTrue(e.attr("IsDDNSEnabled")),
		})
	}
	return out
}
