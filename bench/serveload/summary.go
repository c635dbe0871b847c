package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Labels name one measurement as ACCOUNTS/KIND/LOAD/SERVER, e.g.
// "100000/txt/saturation/strictacme" or "10/idle/started/acme-dns"; a
// secs field is a duration in seconds (start-up, import), cpu_s the
// server's CPU seconds until its first answer; rss_kb is VmRSS, the sum of
// rss_anon_kb (the process's own memory) and rss_file_kb (pages of mapped
// files, mostly its binary; proc(5)).
// The server named "strictacme" is compared with the one named "acme-dns".
const (
	ours   = "strictacme"
	theirs = "acme-dns"
)

// summarize prints, per label, the median of each figure over the repeats
// found in path, and strictacme/acme-dns ratios where both were measured.
func summarize(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct{ accounts, kind, load, server string }
	vals := map[key]map[string][]float64{}
	var order []key
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := map[string]string{}
		for _, kv := range strings.Fields(sc.Text()) {
			k, v, ok := strings.Cut(kv, "=")
			if ok {
				fields[k] = v
			}
		}
		parts := strings.Split(fields["label"], "/")
		if len(parts) != 4 {
			continue
		}
		k := key{parts[0], parts[1], parts[2], parts[3]}
		if vals[k] == nil {
			vals[k] = map[string][]float64{}
			order = append(order, k)
		}
		for name, v := range fields {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				vals[k][name] = append(vals[k][name], x)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	med := func(k key, name string) (float64, bool) {
		xs := slices.Clone(vals[k][name])
		if len(xs) == 0 {
			return 0, false
		}
		slices.Sort(xs)
		if len(xs)%2 == 1 {
			return xs[len(xs)/2], true
		}
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "accounts\tkind\tload\tserver\truns\tqps\tp50 ms\tp99 ms\tlost\tCPU µs/q\tRSS MB\tanon MB\tfile MB\tsecs\tCPU s\t")
	for _, k := range order {
		runs := 0
		for _, xs := range vals[k] {
			runs = max(runs, len(xs))
		}
		cell := func(name string, scale float64, format string) string {
			x, ok := med(k, name)
			if !ok {
				return "-"
			}
			return fmt.Sprintf(format, x/scale)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", k.accounts, k.kind, k.load, k.server, runs,
			cell("qps", 1, "%.0f"), cell("p50_us", 1000, "%.2f"), cell("p99_us", 1000, "%.2f"),
			cell("lost", 1, "%.0f"), cell("cpu_us_per_q", 1, "%.1f"), cell("rss_kb", 1024, "%.1f"),
			cell("rss_anon_kb", 1024, "%.1f"), cell("rss_file_kb", 1024, "%.1f"), cell("secs", 1, "%.2f"), cell("cpu_s", 1, "%.2f"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// Ratios: strictacme divided by acme-dns, each the ratio of the medians.
	var rows []string
	for _, k := range order {
		if k.server != ours {
			continue
		}
		o := key{k.accounts, k.kind, k.load, theirs}
		if vals[o] == nil {
			continue
		}
		ratio := func(name string) string {
			a, ok1 := med(k, name)
			b, ok2 := med(o, name)
			if !ok1 || !ok2 || b == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f", a/b)
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", k.accounts, k.kind, k.load,
			ratio("qps"), ratio("p50_us"), ratio("p99_us"), ratio("cpu_us_per_q"), ratio("rss_kb"),
			ratio("rss_anon_kb"), ratio("rss_file_kb"), ratio("secs"), ratio("cpu_s")))
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nratios %s/%s (of the medians; qps above 1, the others below 1 favour %s)\n", ours, theirs, ours)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "accounts\tkind\tload\tqps\tp50\tp99\tCPU/q\tRSS\tanon\tfile\tsecs\tCPU s\t")
	for _, r := range rows {
		fmt.Fprint(tw, r)
	}
	return tw.Flush()
}
