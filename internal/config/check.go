package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/strictacme/strictacme/internal/keyshape"
)

type problem struct {
	line int
	text string
}

type checker struct {
	file string
	idx  *index
	f    *File
	opts Options
	errs []problem
	used map[int]bool
}

func (c *checker) add(line int, format string, a ...any) {
	loc := c.file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", c.file, line)
	}
	c.errs = append(c.errs, problem{line, loc + ": " + fmt.Sprintf(format, a...)})
}

// keysOf lists the toml keys of a struct type, embedded structs included.
func keysOf(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, keysOf(f.Type)...)
			continue
		}
		if k := strings.Split(f.Tag.Get("toml"), ",")[0]; k != "" && k != "-" {
			out = append(out, k)
		}
	}
	return out
}

// known returns the keys valid in the table that holds path.
func known(path []string) []string {
	switch {
	case len(path) == 2 && path[0] == "defaults":
		return keysOf(reflect.TypeFor[Defaults]())
	case len(path) == 2 && path[0] == "certificate":
		return keysOf(reflect.TypeFor[Certificate]())
	case len(path) == 3 && path[0] == "providers":
		return keysOf(reflect.TypeFor[Provider]())
	case len(path) == 1:
		return []string{"defaults", "providers", "certificate"}
	}
	return nil
}

func (c *checker) undecoded(keys []toml.Key) {
	c.used = map[int]bool{}
	for _, k := range keys {
		line := 0
		for i, e := range c.idx.entries {
			if !c.used[i] && samePath(e.path, k) {
				c.used[i], line = true, e.line
				break
			}
		}
		name := k[len(k)-1]
		msg := fmt.Sprintf("%sunknown key %q", c.idx.describeTable(line), name)
		if s := suggest(name, known(k)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		c.add(line, "%s", msg)
	}
}

// suggest returns the known key closest to name (edit distance at most 2,
// or a permutation of the same letters), "" when none is close.
func suggest(name string, keys []string) string {
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

func (c *checker) check() {
	names := make([]string, 0, len(c.f.Providers))
	for n := range c.f.Providers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.provider(n, c.f.Providers[n])
	}
	seen := map[string]int{}
	for i, cert := range c.f.Certificates {
		cert.Line = c.idx.certHeader(i)
		label := c.idx.certLabel(i)
		if len(cert.Names) == 0 {
			c.add(cert.Line, "certificate %s: missing key \"names\": list the domain names of the certificate", label)
			continue
		}
		if cert.Name == "" {
			cert.Name = strings.TrimPrefix(strings.ToLower(cert.Names[0]), "*.")
		}
		line := c.idx.line(i, "certificate", "name")
		if line == 0 {
			line = cert.Line
		}
		if first, dup := seen[cert.Name]; dup {
			c.add(line, "certificate %q: duplicate certificate name (first defined at line %d); give each certificate its own name", cert.Name, first)
		} else {
			seen[cert.Name] = line
		}
		if cert.Provider != "" && c.f.Providers[cert.Provider] == nil {
			c.add(c.idx.line(i, "certificate", "provider"), "certificate %q: key \"provider\": no provider %q is defined; add [providers.%s]", cert.Name, cert.Provider, cert.Provider)
		}
		for zone, p := range cert.ZoneProviders {
			if c.f.Providers[p] == nil {
				c.add(c.idx.line(i, "certificate", "providers", zone), "certificate %q: providers.%s: no provider %q is defined", cert.Name, zone, p)
			}
		}
	}
}

func (c *checker) provider(name string, p *Provider) {
	p.Name = name
	p.Line = c.idx.line(-1, "providers", name)
	at := func(key string) int {
		if l := c.idx.line(-1, "providers", name, key); l > 0 {
			return l
		}
		return p.Line
	}
	extra, ok := types[p.Type]
	if !ok {
		var ts []string
		for t := range types {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		if p.Type == "" {
			c.add(p.Line, "provider %q: missing key \"type\": set it to one of %s", name, strings.Join(ts, ", "))
		} else {
			c.add(at("type"), "provider %q: key \"type\": unknown provider type %q; use one of %s", name, p.Type, strings.Join(ts, ", "))
		}
		return
	}
	// Keys of another provider type are a mistake worth naming.
	allowed := map[string]bool{"type": true, "zones": true, "single_value": true}
	for _, k := range extra {
		allowed[k] = true
	}
	for _, e := range c.idx.entries {
		if len(e.path) == 3 && e.path[0] == "providers" && e.path[1] == name && !allowed[e.path[2]] {
			if in(keysOf(reflect.TypeFor[Provider]()), e.path[2]) {
				c.add(e.line, "provider %q: key %q is not used by type %q", name, e.path[2], p.Type)
			}
		}
	}
	switch p.Type {
	case "exec":
		if p.Program == "" {
			c.add(p.Line, "provider %q: missing key \"program\": the program called as PROGRAM present|cleanup FQDN VALUE", name)
		}
	case "namecheap":
		if p.APIKey != "" {
			c.add(at("api_key"), "provider %q: key \"api_key\": secrets are not accepted inline; use api_key_file = \"/run/secrets/...\" or api_key_env = \"NAMECHEAP_API_KEY\"", name)
		}
		var err error
		if p.User, err = c.credential("api_user", p.APIUser, p.APIUserEnv, p.APIUserFile); err != nil {
			c.add(at(credKey("api_user", p.APIUserEnv, p.APIUserFile)), "provider %q: %v", name, err)
		}
		if p.APIKey == "" {
			if p.Key, err = c.credential("api_key", "", p.APIKeyEnv, p.APIKeyFile); err != nil {
				c.add(at(credKey("api_key", p.APIKeyEnv, p.APIKeyFile)), "provider %q: %v", name, err)
			}
		}
	}
}

func in(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func credKey(base, env, file string) string {
	switch {
	case env != "":
		return base + "_env"
	case file != "":
		return base + "_file"
	}
	return base
}

// credential resolves one of inline, environment variable or file, the
// keys base, base_env and base_file.
func (c *checker) credential(base, inline, env, file string) (Secret, error) {
	set := 0
	for _, v := range []string{inline, env, file} {
		if v != "" {
			set++
		}
	}
	switch {
	case set > 1:
		return "", fmt.Errorf("set only one of the value, the _env and the _file key")
	case inline != "":
		return Secret(inline), nil
	case env != "":
		v, ok := c.opts.LookupEnv(env)
		if (!ok || strings.TrimSpace(v) == "") && keyshape.LooksLikeKey(env) {
			// Never echo what may be the secret itself.
			return "", fmt.Errorf("%s_env: that looks like a key, not the name of an environment variable; put the key in a variable and give its name, e.g. %s_env = \"NAMECHEAP_%s\"", base, base, strings.ToUpper(base))
		}
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("missing credentials: environment variable %s is not set", env)
		}
		return Secret(strings.TrimSpace(v)), nil
	case file != "":
		b, err := c.opts.ReadFile(file)
		if err != nil && keyshape.LooksLikeKey(file) {
			return "", fmt.Errorf("%s_file: that looks like a key, not a path; write the key to a file (mode 0600) and give its path", base)
		}
		if err != nil {
			return "", fmt.Errorf("missing credentials: cannot read %s: %v", file, errText(err))
		}
		if strings.TrimSpace(string(b)) == "" {
			return "", fmt.Errorf("missing credentials: %s is empty", file)
		}
		return Secret(strings.TrimSpace(string(b))), nil
	}
	return "", fmt.Errorf("missing credentials: set the _file or the _env key")
}
