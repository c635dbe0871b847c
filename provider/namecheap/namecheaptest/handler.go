package namecheaptest

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

const htmlNotFound = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head><title>404 - File or directory not found.</title></head>
<body><div id="header"><h1>Server Error</h1></div>
<div id="content"><h2>404 - File or directory not found.</h2>
<h3>The resource you are looking for might have been removed, had its name changed, or is temporarily unavailable.</h3></div>
</body></html>
`

var recordTypes = map[string]bool{"A": true, "AAAA": true, "ALIAS": true, "CAA": true, "CNAME": true, "MX": true, "MXE": true, "NS": true, "TXT": true, "URL": true, "URL301": true, "FRAME": true}

var emailTypes = map[string]bool{"MXE": true, "MX": true, "FWD": true, "OX": true, "NONE": true, "GMAIL": true}

// params merges query and form values with names lower-cased; the form
// body wins over the query for a name present in both (our choice: which
// one the real API takes is not documented).
type params map[string]string

func (p params) get(name string) string { return p[strings.ToLower(name)] }

func (p params) has(name string) bool { _, ok := p[strings.ToLower(name)]; return ok }

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	p := params{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p[strings.ToLower(k)] = vs[0]
		}
	}
	for k, vs := range r.PostForm {
		if len(vs) > 0 {
			p[strings.ToLower(k)] = vs[0]
		}
	}
	cmd := resolveCommand(p.get("Command"))
	if cmd == SetHosts {
		// A slow setHosts: other calls go on meanwhile, and the write lands
		// afterwards whether or not the client still waits.
		if d := s.setHostsDelay(); d > 0 {
			time.Sleep(d)
		}
	}
	logged := url.Values{}
	for k, v := range p {
		if k != "apikey" {
			logged.Set(k, v)
		}
	}

	s.mu.Lock()
	s.calls[cmd]++
	if len(s.requests) >= maxRequestLog {
		s.requests = append(s.requests[:0], s.requests[len(s.requests)-maxRequestLog/2:]...)
	}
	s.requests = append(s.requests, Request{Command: cmd, Method: r.Method, ContentType: r.Header.Get("Content-Type"), UserAgent: r.Header.Get("User-Agent"), QueryLen: len(r.URL.RawQuery), Params: logged})
	if len(r.URL.RawQuery) > s.opts.MaxQueryLen {
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, htmlNotFound)
		return
	}
	now := s.now()
	if s.opts.RateLimit > 0 {
		cut := now.Add(-time.Minute)
		i := 0
		for i < len(s.window) && !s.window[i].After(cut) {
			i++
		}
		s.window = s.window[i:]
		if len(s.window) >= s.opts.RateLimit {
			legacy := s.opts.LegacyThrottle
			s.mu.Unlock()
			if legacy {
				writeError(w, cmd, 500000, "Too many requests", "")
				return
			}
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		s.window = append(s.window, now)
	}
	if fs := s.faults[cmd]; len(fs) > 0 {
		f := fs[0]
		s.faults[cmd] = fs[1:]
		s.mu.Unlock()
		writeFault(w, cmd, f)
		return
	}
	ok := s.dispatch(w, cmd, p)
	hook := s.hook
	s.mu.Unlock()
	if ok && hook != nil {
		hook(cmd)
	}
}

// dispatch runs under s.mu and writes the answer. It reports whether the
// command succeeded.
func (s *Server) dispatch(w http.ResponseWriter, cmd string, p params) bool {
	// Authentication, with the error numbers of the global parameters doc
	// (https://www.namecheap.com/support/api/global-parameters/);
	// the real API's order of checks is not documented.
	switch {
	case p.get("ApiUser") == "":
		return authError(w, 1010101, "Parameter APIUser is missing")
	case p.get("ApiKey") == "":
		return authError(w, 1010102, "Parameter APIKey is missing")
	case p.get("Command") == "":
		return authError(w, 1010104, "Parameter Command is missing")
	case p.get("ClientIp") == "":
		return authError(w, 1010105, "Parameter ClientIP is missing")
	case p.get("ApiUser") != s.opts.APIUser || p.get("ApiKey") != s.opts.APIKey:
		return authError(w, 1011102, "API Key is invalid or API access has not been enabled")
	}
	ip := p.get("ClientIp")
	if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() || (s.white != nil && !s.white[ip]) {
		return authError(w, 1011150, "Invalid request IP: "+ip)
	}
	switch cmd {
	case GetHosts:
		return s.getHosts(w, p)
	case SetHosts:
		return s.setHosts(w, p)
	case GetList:
		return s.getList(w, p)
	}
	writeError(w, cmd, 1010104, "Command "+p.get("Command")+" is not supported by this fake", "")
	return false
}

func (s *Server) lookup(w http.ResponseWriter, cmd string, p params) *zone {
	domain := strings.ToLower(p.get("SLD") + "." + p.get("TLD"))
	if p.get("SLD") == "" || p.get("TLD") == "" {
		writeError(w, cmd, 2011166, "SLD and TLD are required", emptyResponse(cmd))
		return nil
	}
	z := s.zones[domain]
	switch {
	case z == nil:
		writeError(w, cmd, 2019166, "Domain not found", emptyResponse(cmd))
	case z.otherAccount:
		writeError(w, cmd, 2016166, "Domain is not associated with your account", emptyResponse(cmd))
	case z.customNS:
		writeError(w, cmd, 2030288, "Cannot complete this command as this domain is not using proper DNS servers", emptyResponse(cmd))
	default:
		return z
	}
	return nil
}

func (s *Server) getHosts(w http.ResponseWriter, p params) bool {
	z := s.lookup(w, GetHosts, p)
	if z == nil {
		return false
	}
	domain := strings.ToLower(p.get("SLD") + "." + p.get("TLD"))
	if z.unicodeDomain {
		if u, err := idna.ToUnicode(domain); err == nil {
			domain = u
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<DomainDNSGetHostsResult Domain="%s" EmailType="%s" IsUsingOurDNS="true"`, escAttr(domain), escAttr(z.emailType))
	if len(z.hosts) == 0 {
		b.WriteString(" />")
	} else {
		b.WriteString(">\n")
		for _, h := range z.hosts {
			fmt.Fprintf(&b, `      <host HostId="%d" Name="%s" Type="%s" Address="%s" MXPref="%s" TTL="%s" AssociatedAppTitle="%s" FriendlyName="%s" IsActive="%t" IsDDNSEnabled="%t" />`+"\n",
				h.HostId, escAttr(h.Name), escAttr(h.Type), escAttr(h.Address), escAttr(h.MXPref), escAttr(h.TTL),
				escAttr(h.AssociatedAppTitle), escAttr(h.FriendlyName), h.IsActive, h.IsDDNSEnabled)
		}
		b.WriteString("    </DomainDNSGetHostsResult>")
	}
	writeOK(w, GetHosts, b.String())
	return true
}

func (s *Server) setHosts(w http.ResponseWriter, p params) bool {
	z := s.lookup(w, SetHosts, p)
	if z == nil {
		return false
	}
	domain := strings.ToLower(p.get("SLD") + "." + p.get("TLD"))
	fail := func(n int, msg string) bool {
		writeError(w, SetHosts, n, msg, fmt.Sprintf(`<DomainDNSSetHostsResult Domain="%s" EmailType="" IsSuccess="false"><Warnings /></DomainDNSSetHostsResult>`, escAttr(domain)))
		return false
	}
	var hosts []Host
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		if !p.has("HostName"+n) && !p.has("RecordType"+n) {
			break
		}
		h := Host{
			Name:    p.get("HostName" + n),
			Type:    strings.ToUpper(p.get("RecordType" + n)),
			Address: p.get("Address" + n),
			MXPref:  p.get("MXPref" + n),
			TTL:     p.get("TTL" + n),
		}
		if h.Name == "" || h.Address == "" {
			return fail(5050900, "Object reference not set to an instance of an object.")
		}
		if !recordTypes[h.Type] {
			return fail(2050900, "Invalid record type "+h.Type)
		}
		if len(h.Name) > 60 {
			return fail(2050900, "Host name is too long (host name: "+h.Name+")")
		}
		if h.TTL != "" {
			t, err := strconv.Atoi(h.TTL)
			if err != nil || t < 60 || t > 60000 {
				return fail(2050900, "Invalid TTL (host name: "+h.Name+")")
			}
		}
		if h.MXPref != "" {
			if _, err := strconv.Atoi(h.MXPref); err != nil {
				return fail(2050900, "Invalid MXPref (host name: "+h.Name+")")
			}
		}
		switch h.Type {
		case "TXT":
			if len(h.Address) > 2500 {
				return fail(2050900, "TXT record is too long (host name: "+h.Name+")")
			}
			// The server strips surrounding quotes (Posh-ACME's Namecheap plugin:
			// "namecheap strips them on the server side").
			if len(h.Address) >= 2 && strings.HasPrefix(h.Address, `"`) && strings.HasSuffix(h.Address, `"`) {
				h.Address = h.Address[1 : len(h.Address)-1]
			}
		case "CAA":
			if !validCAA(h.Address) {
				return fail(2050900, fmt.Sprintf("CAA record with tag %q has incorrect value.", caaTag(h.Address)))
			}
		case "URL", "URL301", "FRAME":
			if !strings.Contains(h.Address, "://") {
				return fail(2050900, "Invalid Address (host name: "+h.Name+")")
			}
		case "MX":
			if _, err := netip.ParseAddr(h.Address); err == nil {
				return fail(2050900, fmt.Sprintf("INVALID_ADDR : '%s' should not be an IP/ URL for MX record.(host name: %s)", h.Address, h.Name))
			}
		}
		h.IsActive = true
		hosts = append(hosts, h)
	}
	if len(hosts) > 150 {
		return fail(3013288, "Too many records")
	}
	emailType := z.emailType
	if p.has("EmailType") {
		et := strings.ToUpper(p.get("EmailType"))
		if !emailTypes[et] {
			return fail(2050900, "Invalid EmailType "+p.get("EmailType"))
		}
		emailType = et
	}
	if !s.opts.KeepMXWhateverEmailType && emailType != "MX" {
		kept := hosts[:0]
		for _, h := range hosts {
			if h.Type != "MX" {
				kept = append(kept, h)
			}
		}
		hosts = kept
	}
	if s.opts.Damage != nil {
		hosts = s.opts.Damage(domain, append([]Host(nil), hosts...))
	}
	z.emailType = emailType
	z.hosts = s.stamp(hosts, false)
	writeOK(w, SetHosts, fmt.Sprintf(`<DomainDNSSetHostsResult Domain="%s" IsSuccess="true">
      <Warnings />
    </DomainDNSSetHostsResult>`, escAttr(domain)))
	return true
}

func caaTag(v string) string {
	f := strings.Fields(v)
	if len(f) >= 2 {
		return f[1]
	}
	return ""
}

// validCAA accepts `flag tag "value"` with a quoted value, the form the
// real server requires (acme.sh#3019: a literal &quot; is rejected).
func validCAA(v string) bool {
	parts := strings.SplitN(v, " ", 3)
	if len(parts) != 3 {
		return false
	}
	if f, err := strconv.Atoi(parts[0]); err != nil || f < 0 || f > 255 {
		return false
	}
	switch parts[1] {
	case "issue", "issuewild", "iodef":
	default:
		return false
	}
	val := parts[2]
	return len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' && !strings.Contains(val, "&quot;")
}

func (s *Server) getList(w http.ResponseWriter, p params) bool {
	page := atoiDefault(p.get("Page"), 1)
	size := atoiDefault(p.get("PageSize"), 20)
	if size < 10 || size > 100 {
		size = 20
	}
	if page < 1 {
		page = 1
	}
	names := s.sortedZones()
	var b strings.Builder
	b.WriteString("<DomainGetListResult>\n")
	for i := (page - 1) * size; i < len(names) && i < page*size; i++ {
		z := s.zones[names[i]]
		fmt.Fprintf(&b, `      <Domain ID="%d" Name="%s" User="%s" Created="01/15/2020" Expires="01/15/2030" IsExpired="false" IsLocked="false" AutoRenew="true" WhoisGuard="ENABLED" IsPremium="false" IsOurDNS="%t" />`+"\n",
			100000+i, escAttr(names[i]), escAttr(s.opts.APIUser), !z.customNS)
	}
	fmt.Fprintf(&b, "    </DomainGetListResult>\n    <Paging>\n      <TotalItems>%d</TotalItems>\n      <CurrentPage>%d</CurrentPage>\n      <PageSize>%d</PageSize>\n    </Paging>", len(names), page, size)
	writeOK(w, GetList, b.String())
	return true
}

func emptyResponse(cmd string) string {
	return fmt.Sprintf(`<CommandResponse Type="%s" />`, cmd)
}

func writeOK(w http.ResponseWriter, cmd, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response">
  <Errors />
  <Warnings />
  <RequestedCommand>%s</RequestedCommand>
  <CommandResponse Type="%s">
    %s
  </CommandResponse>
  <Server>PHX01SBAPIEXT05</Server>
  <GMTTimeDifference>--4:00</GMTTimeDifference>
  <ExecutionTime>0.412</ExecutionTime>
</ApiResponse>`, strings.ToLower(cmd), cmd, inner)
}

// writeError writes Status="ERROR". commandResponse is the raw element to
// include ("" for none, as for authentication errors).
func writeError(w http.ResponseWriter, cmd string, number int, msg, commandResponse string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="ERROR" xmlns="http://api.namecheap.com/xml.response">
  <Errors>
    <Error Number="%d">%s</Error>
  </Errors>
  <Warnings />
  <RequestedCommand>%s</RequestedCommand>
  %s
  <Server>PHX01APIEXT02</Server>
  <GMTTimeDifference>--4:00</GMTTimeDifference>
  <ExecutionTime>0.22</ExecutionTime>
</ApiResponse>`, number, escText(msg), strings.ToLower(cmd), commandResponse)
}

// authError is the shape of authentication and IP errors: empty
// RequestedCommand, no CommandResponse (as in lego's captured fixture
// providers/dns/namecheap/internal/fixtures/getHosts_errorBadAPIKey1.xml
// and https://github.com/namecheap/go-namecheap-sdk/issues/4).
func authError(w http.ResponseWriter, number int, msg string) bool {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="ERROR" xmlns="http://api.namecheap.com/xml.response">
  <Errors>
    <Error Number="%d">%s</Error>
  </Errors>
  <Warnings />
  <RequestedCommand />
  <Server>PHX01APIEXT03</Server>
  <GMTTimeDifference>--5:00</GMTTimeDifference>
  <ExecutionTime>0</ExecutionTime>
</ApiResponse>`, number, escText(msg))
	return false
}

func writeFault(w http.ResponseWriter, cmd string, f Fault) {
	switch {
	case f.Body != "":
		if f.HTTPStatus == 0 {
			f.HTTPStatus = http.StatusOK
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.HTTPStatus)
		fmt.Fprint(w, f.Body)
	case f.Number == 0 && f.HTTPStatus != 0:
		w.WriteHeader(f.HTTPStatus)
	case f.Number == 1011150 || f.Number == 1011102:
		authError(w, f.Number, f.Message)
	default:
		writeError(w, cmd, f.Number, f.Message, emptyResponse(cmd))
	}
}

// escAttr escapes an attribute value as the real API does (&quot; for
// quotes), plus the whitespace characters that XML attribute-value
// normalisation would otherwise turn into spaces.
func escAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		case '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func escText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
