package preflight

import (
	"context"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// fakeResolver answers from a zone map and records every question. A name
// with no entry gets NXDOMAIN; err, when set, fails every exchange.
type fakeResolver struct {
	spec    string
	records map[string][]string // "name. TYPE" → presentation RRs
	rcode   map[string]int      // "name. TYPE" → RCODE instead of an answer
	err     error

	mu    sync.Mutex
	asked []string
}

func (f *fakeResolver) String() string { return f.spec }

func (f *fakeResolver) Exchange(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
	qq := q.Question[0]
	key := strings.ToLower(qq.Name) + " " + dns.TypeToString[qq.Qtype]
	f.mu.Lock()
	f.asked = append(f.asked, key)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	m := new(dns.Msg)
	m.SetReply(q)
	if rc, has := f.rcode[key]; has {
		m.Rcode = rc
		return m, nil
	}
	rrs, has := f.records[key]
	if !has {
		m.Rcode = dns.RcodeNameError
		return m, nil
	}
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		m.Answer = append(m.Answer, rr)
	}
	return m, nil
}

func (f *fakeResolver) questions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func caa(owner, rdata string) *dns.CAA {
	rr, err := dns.NewRR(owner + " 300 IN CAA " + rdata)
	if err != nil {
		panic(err)
	}
	return rr.(*dns.CAA)
}
