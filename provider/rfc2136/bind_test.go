package rfc2136_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/strictacme/strictacme/provider/rfc2136"
)

// startBIND runs BIND 9's named (Debian's bind9 package) on a loopback
// port with zone example.com, a key whose update-policy covers
// _acme-challenge.example.com TXT only, and transfer rights for it. It
// skips when named is not installed.
func startBIND(t *testing.T) string {
	t.Helper()
	named, err := exec.LookPath("named")
	if err != nil {
		t.Skip("named (BIND 9) is not installed; apt-get install bind9 runs this test")
	}
	dir := t.TempDir()
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	zone := strings.Join(append([]string{
		"$ORIGIN example.com.",
		"$TTL 3600",
		"@ IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
		"@ IN NS ns1.example.com.",
		"ns1 IN A 192.0.2.53",
	}, otherRecords...), "\n") + "\n"
	conf := fmt.Sprintf(`options {
	directory %q;
	pid-file none;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	session-keyfile none;
};
controls { };
key "acme-update" { algorithm hmac-sha256; secret %q; };
zone "example.com" {
	type primary;
	file "example.com.db";
	update-policy { grant acme-update name _acme-challenge.example.com. TXT; };
	allow-transfer { key acme-update; };
};
`, dir, port, secret)
	for name, body := range map[string]string{"named.conf": conf, "example.com.db": zone} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	cmd := exec.Command(named, "-g", "-4", "-c", filepath.Join(dir, "named.conf"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("named:\n%s", logs.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// named is up once it answers for the zone.
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	for deadline := time.Now().Add(15 * time.Second); ; {
		r, err := dns.Exchange(m, addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return addr
		}
		select {
		case <-done:
			t.Fatalf("named exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("named did not answer in 15 s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The provider against BIND 9 itself: the zone found by SOA, two values at
// one name written and deleted beside a foreign value whose TTL stays,
// every other record unchanged (read by AXFR), and BIND's own refusals
// (BADKEY, BADSIG, the update policy) explained.
func TestAgainstBIND(t *testing.T) {
	addr := startBIND(t)
	p := &rfc2136.Provider{Server: addr, KeyName: "acme-update", KeySecret: secret}
	ctx := context.Background()
	zone, err := p.ZoneFor(ctx, "_acme-challenge.example.com.")
	if err != nil || zone != "example.com." {
		t.Fatalf("ZoneFor = %q, %v", zone, err)
	}
	read := func() (txt []string, others []string) {
		recs, err := p.GetRecords(ctx, zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			rr := r.RR()
			if rr.Name == "_acme-challenge" && rr.Type == "TXT" {
				txt = append(txt, fmt.Sprintf("%s %s", rr.TTL, rr.Data))
				continue
			}
			others = append(others, fmt.Sprintf("%s %s %s %s", rr.Name, rr.TTL, rr.Type, rr.Data))
		}
		sort.Strings(txt)
		sort.Strings(others)
		return txt, others
	}
	_, before := read()
	recs := []libdns.Record{txt("_acme-challenge", value1), txt("_acme-challenge", value2)}
	if _, err := p.AppendRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	got, _ := read()
	want := []string{"1h0m0s " + value1, "1h0m0s another-clients-value", "1h0m0s " + value2}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("TXT after the write %q, want %q", got, want)
	}
	if _, err := p.DeleteRecords(ctx, zone, recs); err != nil {
		t.Fatal(err)
	}
	got, after := read()
	if !slices.Equal(got, []string{"1h0m0s another-clients-value"}) || !slices.Equal(after, before) {
		t.Errorf("after the delete: TXT %q; other records changed: %v", got, !slices.Equal(after, before))
	}

	refusals := []struct {
		name  string
		p     *rfc2136.Provider
		rec   libdns.Record
		check func(*rfc2136.ServerError) bool
	}{
		{"unknown key", &rfc2136.Provider{Server: addr, KeyName: "other", KeySecret: secret}, txt("_acme-challenge", value1),
			func(e *rfc2136.ServerError) bool { return e.TSIGError == dns.RcodeBadKey }},
		{"wrong secret", &rfc2136.Provider{Server: addr, KeyName: "acme-update", KeySecret: "b3RoZXItc2VjcmV0LW5vdC10aGUtc2VydmVycy0wMDA="}, txt("_acme-challenge", value1),
			func(e *rfc2136.ServerError) bool { return e.TSIGError == dns.RcodeBadSig }},
		{"outside the policy", p, txt("_acme-challenge.sub", value1),
			func(e *rfc2136.ServerError) bool { return e.Rcode == dns.RcodeRefused && !e.KeyRejected() }},
	}
	for _, r := range refusals {
		_, err := r.p.AppendRecords(ctx, zone, []libdns.Record{r.rec})
		var se *rfc2136.ServerError
		if !errors.As(err, &se) || !r.check(se) {
			t.Errorf("%s: %v", r.name, err)
		}
	}
}
