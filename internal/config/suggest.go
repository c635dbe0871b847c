package config

import "sort"

// suggest returns the known key closest to name (edit distance at most 2,
// or a permutation of the same letters), "" when none is close.
func suggest(name string, keys []string) string {
	sort.Strings(keys)
	best, bestD := "", 3
	for _, k := range keys {
		d := distance(name, k)
		if d < bestD || (d == bestD && sameLetters(name, k)) {
			best, bestD = k, d
		}
	}
	if bestD > 2 && (best == "" || !sameLetters(name, best)) {
		return ""
	}
	return best
}

func sameLetters(a, b string) bool {
	x, y := []byte(a), []byte(b)
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	return string(x) == string(y)
}

// distance is the optimal string alignment distance (adjacent swaps count 1).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
