// Package config reads strictacme's TOML configuration file into one
// plan.Settings per [[certificate]]: [defaults] apply to every certificate,
// [providers.NAME] tables define DNS providers (kinds from the plan
// registry). Every problem of a file — syntax, types, unknown keys, bad
// values, providers that do not exist or do not cover a name — is reported
// at once, one line each, in config vocabulary:
//
//	strictacme.toml:12: certificate "web": key "key_type": unsupported key type "ec521"; use ec256, ec384, ...
//
// Positions come from the TOML parser's syntax tree. Secrets are never in
// the file: a provider's secret is KEY_env (a variable's name) or KEY_file.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/tomlpos"
)

// File is a decoded configuration file.
type File struct {
	// Path is the file as given to Load.
	Path string
	// StatePath is [defaults] path; "" means the command's default.
	StatePath string
	// Certificates in file order, defaults applied where the file sets
	// them (plan's own defaults are applied when a plan is built).
	Certificates []*Certificate

	pos tomlpos.Positions
}

// Certificate is one [[certificate]].
type Certificate struct {
	plan.Settings
	// Line of the [[certificate]] header.
	Line int

	index int
	keys  map[string]bool // keys set in the certificate's own table
}

// Lists returns the line of every [[certificate]] table of the file at
// path named name: delete warns that run would issue it again. A file
// that does not exist lists nothing unless mustExist; one that cannot be
// read is an error.
func Lists(path, name string, mustExist bool) ([]int, error) {
	if _, err := os.Stat(path); !mustExist && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	f, err := Load(path, Options{})
	if err != nil {
		return nil, err
	}
	var lines []int
	for _, c := range f.Certificates {
		if c.Name == name {
			lines = append(lines, c.Line)
		}
	}
	return lines, nil
}

// StillLists is the warning of each [[certificate]] table of the file at
// path that names name (Lists), after that certificate was deleted: the
// next run would issue it again. A file that cannot be read is one
// warning, its first line.
func StillLists(path, name string, mustExist bool) []string {
	lines, err := Lists(path, name, mustExist)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return []string{fmt.Sprintf("warning: could not check %s for %s: %s", path, name, first)}
	}
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("warning: %s:%d still lists %s; strictacme run --config %s issues it again: remove its [[certificate]] table", path, l, name, path))
	}
	return out
}

// LoadCertificates is Load for the commands that act on the file's
// certificates: a file without any is an error too. Every error carries
// exitcode.Usage.
func LoadCertificates(path string) (*File, error) {
	f, err := Load(path, Options{})
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	if len(f.Certificates) == 0 {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("%s: no [[certificate]] table; add one (see docs/config.md)", path))
	}
	return f, nil
}

// PathOr is the state directory of a command reading f: flag when the
// user gave it (given), else the file's [defaults] path, else flag (the
// command's default).
func (f *File) PathOr(flag string, given bool) string {
	if !given && f.StatePath != "" {
		return f.StatePath
	}
	return flag
}

// PersistSettings are the settings persist takes from f, by settings key:
// the names (PersistNames), and from [defaults] the CA, the account's
// e-mail and terms, the state directory, trust roots and resolvers.
func (f *File) PersistSettings() map[string]any {
	d := f.Certificates[0].Settings // [defaults] are in every certificate's settings
	return map[string]any{"names": f.PersistNames(), "server": d.Server, "email": d.Email, "path": f.StatePath,
		"accept_tos": d.AcceptTOS, "ca_certs": d.CACerts, "resolvers": d.Resolvers}
}

// PersistNames are the names of the certificates whose challenges list
// dns-persist-01, in file order; when none does, the names of every
// certificate. They are the names whose dns-persist-01 records the file
// stands for.
func (f *File) PersistNames() []string {
	var withPersist, all []string
	for _, c := range f.Certificates {
		all = append(all, c.Names...)
		if slices.Contains(c.Challenges, "dns-persist-01") {
			withPersist = append(withPersist, c.Names...)
		}
	}
	if len(withPersist) > 0 {
		return withPersist
	}
	return all
}

// Options change how a file is read.
type Options struct {
	// Lookup reads a provider's environment variable when its table does
	// not set that key; nil means the environment.
	Lookup func(string) (string, bool)
}

// Error is every problem found in a file, one line each, in line order.
type Error struct{ Lines []string }

func (e *Error) Error() string { return strings.Join(e.Lines, "\n") }

// Load reads and checks path. The error is *Error (one line per problem)
// or an I/O error.
func Load(path string, opts Options) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	return Parse(path, data, opts)
}

type problem struct {
	line int
	text string
}

type decoder struct {
	file string
	pos  tomlpos.Positions
	errs []problem
	seen map[string]bool
}

func (d *decoder) add(line int, format string, a ...any) {
	text := tomlpos.Where(d.file, line) + ": " + fmt.Sprintf(format, a...)
	if d.seen[text] {
		return
	}
	d.seen[text] = true
	d.errs = append(d.errs, problem{line, text})
}

// Parse is Load on data already read; path names the file in messages.
func Parse(path string, data []byte, opts Options) (*File, error) {
	d := &decoder{file: path, seen: map[string]bool{}}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			where := ""
			if k := de.Key(); len(k) > 0 {
				where = fmt.Sprintf("key %q: ", k[len(k)-1])
			}
			return nil, &Error{Lines: []string{fmt.Sprintf("%s: %s%s", tomlpos.Where(d.file, line), where, strings.TrimPrefix(de.Error(), "toml: "))}}
		}
		return nil, &Error{Lines: []string{fmt.Sprintf("%s: %v", d.file, err)}}
	}
	d.pos = tomlpos.Locate(data)
	f := &File{Path: path, pos: d.pos}

	for _, k := range sortedKeys(raw) {
		if k != "defaults" && k != "providers" && k != "certificate" {
			d.unknown(d.pos.Line(k), "", k, []string{"defaults", "providers", "certificate"})
		}
	}
	var defaults plan.Settings
	if t, ok := d.table(raw["defaults"], "[defaults]", "defaults"); ok {
		if p, ok := t["path"]; ok {
			delete(t, "path")
			if s, ok := p.(string); ok {
				f.StatePath = s
			} else {
				d.add(d.pos.Line("defaults", "path"), "[defaults] key \"path\": wrong type: want a string, got %s", typeName(p))
			}
		}
		d.settings(t, &defaults, "[defaults] ", []string{"defaults"}, defaultKeys)
	}
	refs := d.providers(raw["providers"])
	for _, r := range refs {
		for _, p := range r.Validate(opts.Lookup) {
			d.provider(p)
		}
	}

	certs, _ := raw["certificate"].([]any)
	if raw["certificate"] != nil && certs == nil {
		d.add(d.pos.Line("certificate"), "key \"certificate\": write each certificate as a [[certificate]] table")
	}
	names := map[string]int{}
	for i, c := range certs {
		idx := strconv.Itoa(i)
		header := d.pos.Line("certificate", idx)
		t, ok := c.(map[string]any)
		if !ok {
			d.add(header, "certificate #%d: write it as a [[certificate]] table", i+1)
			continue
		}
		label := fmt.Sprintf("#%d", i+1)
		if n, ok := t["name"].(string); ok && n != "" {
			label = strconv.Quote(n)
		}
		s := defaults
		d.settings(t, &s, "certificate "+label+": ", []string{"certificate", idx}, certKeys)
		if s.CSR != "" {
			// The key of a certificate ordered for a CSR is the CSR's:
			// [defaults] key settings are for the others.
			if _, own := t["key_type"]; !own {
				s.KeyType = ""
			}
			if _, own := t["reuse_key"]; !own {
				s.ReuseKey = false
			}
			s = s.WithCSRNames()
		}
		// Without usable names the certificate's other keys are still
		// checked, so every problem is reported at once; only the
		// follow-on complaints about the names (and the name derived from
		// them) are left out, the cause being reported already.
		namesReported := false
		if len(s.Names) == 0 && s.CSR == "" {
			if v, given := t["names"]; !given {
				d.add(header, "certificate %s: missing key \"names\": list the domain names of the certificate", label)
				namesReported = true
			} else if a, ok := v.([]any); !ok || len(a) > 0 {
				namesReported = true // wrong type, reported by settings
			}
		}
		if s.Name == "" && len(s.Names) > 0 {
			s.Name = defaultName(s.Names[0])
		}
		s.Providers = usedProviders(s, refs)
		s = s.WithDefaults()
		if s.Name != "" {
			label = strconv.Quote(s.Name)
		}
		at := func(key string) int {
			if _, ok := t[key]; ok {
				return d.pos.Line("certificate", idx, key)
			}
			if l := d.pos.Line("defaults", key); l > 0 {
				return l
			}
			return header
		}
		if first, dup := names[s.Name]; dup && s.Name != "" {
			d.add(at("name"), "certificate %s: key \"name\": duplicate certificate name (first defined at line %d); give each certificate its own name", label, first)
		} else if s.Name != "" {
			names[s.Name] = at("name")
		}
		for _, p := range s.Validate(plan.ValidateOptions{Lookup: opts.Lookup}) {
			if namesReported && p.Key == "names" || p.Key == "name" && s.Name == "" && len(s.Names) == 0 {
				continue
			}
			if p.Provider != "" {
				d.provider(p)
				continue
			}
			d.add(at(p.Key), "certificate %s: key %q: %s", label, p.Key, p.Msg)
		}
		keys := map[string]bool{}
		for k := range t {
			keys[k] = true
		}
		f.Certificates = append(f.Certificates, &Certificate{Settings: s, Line: header, index: i, keys: keys})
	}
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].line < d.errs[j].line })
		e := &Error{}
		for _, p := range d.errs {
			e.Lines = append(e.Lines, p.text)
		}
		return nil, e
	}
	return f, nil
}

// Problem is one line, as Load writes them, for a problem of certificate c
// found later (when a provider is built): at the line of key in the
// provider table named, else in the certificate, else in [defaults].
func (f *File) Problem(c *Certificate, provider, key, msg string) string {
	if provider != "" {
		line := f.pos.Line("providers", provider, key)
		if line == 0 {
			line = f.pos.Line("providers", provider)
		}
		return fmt.Sprintf("%s: provider %q: %s", tomlpos.Where(f.Path, line), provider, msg)
	}
	line := c.Line
	if c.keys[key] {
		line = f.pos.Line("certificate", strconv.Itoa(c.index), key)
	} else if l := f.pos.Line("defaults", key); l > 0 {
		line = l
	}
	return fmt.Sprintf("%s: certificate %q: key %q: %s", tomlpos.Where(f.Path, line), c.Name, key, msg)
}

// provider reports a problem of a [providers.NAME] table.
func (d *decoder) provider(p plan.Problem) {
	line := d.pos.Line("providers", p.Provider, p.Key)
	if line == 0 {
		line = d.pos.Line("providers", p.Provider)
	}
	d.add(line, "%s", p)
}

// defaultName is the store name of a certificate without "name": its
// first name in lower case without a leading "*.", as config certificates
// have always been stored. The command line's default (store.CertName)
// keeps a wildcard as "_wildcard."; using it here would move a stored
// certificate to a new folder and order it afresh.
func defaultName(first string) string {
	return strings.TrimPrefix(strings.ToLower(first), "*.")
}

// usedProviders are the definitions a certificate needs: every provider
// that names zones, and those the certificate names.
func usedProviders(s plan.Settings, refs []plan.ProviderRef) []plan.ProviderRef {
	want := map[string]bool{s.Provider: true}
	for _, n := range s.ZoneProviders {
		want[n] = true
	}
	var out []plan.ProviderRef
	for _, r := range refs {
		if want[r.Name] || len(r.Zones) > 0 {
			out = append(out, r)
		}
	}
	return out
}

func (d *decoder) table(v any, what string, path ...string) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	t, ok := v.(map[string]any)
	if !ok {
		d.add(d.pos.Line(path...), "%s: write it as a table", what)
	}
	return t, ok
}

// field is one settings key of the file.
type field struct {
	key   string
	index []int
	typ   reflect.Type
}

var (
	durationType = reflect.TypeFor[plan.Duration]()
	allKeys      = settingsFields()
	// Keys of a certificate only, and of [defaults] only.
	certOnly = []string{"name", "names", "csr", "providers", "profile", "challenge_alias", "challenge_aliases", "challenge_targets",
		"install_key", "install_cert", "install_chain", "install_fullchain", "install_pem", "install_pkcs12"}
	defaultKeys = keysExcept(certOnly)
	certKeys    = keysExcept(nil)
)

// settingsFields are the keys of plan.Settings, those of embedded structs
// (the deploy outputs) included.
func settingsFields() map[string]field {
	out := map[string]field{}
	for _, sf := range reflect.VisibleFields(reflect.TypeFor[plan.Settings]()) {
		if sf.Anonymous || !sf.IsExported() {
			continue
		}
		key := sf.Tag.Get("config")
		if key == "" {
			key = strings.Split(sf.Tag.Get("json"), ",")[0]
		}
		if key == "" || key == "-" {
			continue
		}
		out[key] = field{key: key, index: sf.Index, typ: sf.Type}
	}
	return out
}

func keysExcept(skip []string) map[string]field {
	out := map[string]field{}
	for k, f := range allKeys {
		if !contains(skip, k) {
			out[k] = f
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// settings decodes the keys of t into s, reporting unknown keys and wrong
// types.
func (d *decoder) settings(t map[string]any, s *plan.Settings, label string, path []string, known map[string]field) {
	v := reflect.ValueOf(s).Elem()
	for _, k := range sortedKeys(t) {
		line := d.pos.Line(append(path, k)...)
		f, ok := known[k]
		if !ok {
			if _, elsewhere := allKeys[k]; elsewhere {
				where := "in a [[certificate]]"
				if path[0] == "certificate" {
					where = "in [defaults]"
				}
				d.add(line, "%skey %q: only allowed %s; move it there", label, k, where)
				continue
			}
			keys := make([]string, 0, len(known))
			for n := range known {
				keys = append(keys, n)
			}
			d.unknown(line, label, k, keys)
			continue
		}
		if err := set(v.FieldByIndex(f.index), t[k]); err != nil {
			d.add(line, "%skey %q: %v", label, k, err)
		}
	}
}

func (d *decoder) unknown(line int, label, key string, known []string) {
	msg := fmt.Sprintf("%skey %q: unknown key", label, key)
	if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	d.add(line, "%s", msg)
}

// set stores a TOML value in a settings field of a known type.
func set(f reflect.Value, v any) error {
	want := func(what string) error { return fmt.Errorf("wrong type: want %s, got %s", what, typeName(v)) }
	switch {
	case f.Type() == durationType:
		switch x := v.(type) {
		case string:
			dur, err := plan.ParseDuration(x)
			if err != nil {
				return err
			}
			f.SetInt(int64(dur))
		case int64:
			if x < 0 {
				return fmt.Errorf("must not be negative")
			}
			dur, _ := plan.ParseDuration(strconv.FormatInt(x, 10))
			f.SetInt(int64(dur))
		default:
			return want("a duration such as \"90s\"")
		}
	case f.Kind() == reflect.String:
		x, ok := v.(string)
		if !ok {
			return want("a string")
		}
		f.SetString(x)
	case f.Kind() == reflect.Bool:
		x, ok := v.(bool)
		if !ok {
			return want("true or false")
		}
		f.SetBool(x)
	case f.Kind() == reflect.Int:
		x, ok := v.(int64)
		if !ok {
			return want("an integer")
		}
		f.SetInt(x)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		list, ok := v.([]any)
		if !ok {
			return want("an array of strings")
		}
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return want("an array of strings")
			}
			out = append(out, s)
		}
		f.Set(reflect.ValueOf(out))
	case f.Kind() == reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return want("a table of strings")
		}
		out := map[string]string{}
		for k, e := range m {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("%s: wrong type: want a string, got %s", k, typeName(e))
			}
			out[k] = s
		}
		f.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("cannot be set in a config file")
	}
	return nil
}

// providers decodes the [providers.NAME] tables.
func (d *decoder) providers(v any) []plan.ProviderRef {
	t, ok := d.table(v, "[providers]", "providers")
	if !ok {
		return nil
	}
	var out []plan.ProviderRef
	for _, name := range sortedKeys(t) {
		label := fmt.Sprintf("provider %q: ", name)
		pt, ok := t[name].(map[string]any)
		if !ok {
			d.add(d.pos.Line("providers", name), "%swrite it as a [providers.%s] table", label, name)
			continue
		}
		ref := plan.ProviderRef{Name: name, Values: map[string]string{}}
		at := func(k string) int { return d.pos.Line("providers", name, k) }
		if x, ok := pt["type"].(string); ok {
			ref.Kind = x
		} else if pt["type"] != nil {
			d.add(at("type"), "%skey \"type\": wrong type: want a string, got %s", label, typeName(pt["type"]))
		}
		kind, known := plan.LookupProvider(ref.Kind)
		for _, k := range sortedKeys(pt) {
			val := pt[k]
			switch k {
			case "type":
			case "zones":
				if err := set(reflect.ValueOf(&ref.Zones).Elem(), val); err != nil {
					d.add(at(k), "%skey %q: %v", label, k, err)
				}
			case "single_value":
				if err := set(reflect.ValueOf(&ref.SingleValue).Elem(), val); err != nil {
					d.add(at(k), "%skey %q: %v", label, k, err)
				}
			default:
				if !known {
					continue // the unknown type is the problem reported
				}
				keys := append(kind.ConfigKeys(), "type", "zones", "single_value")
				if !contains(keys, k) {
					d.unknown(at(k), label, k, keys)
					continue
				}
				want := plan.String
				if key, ok := kind.Key(k); ok {
					want = key.Type
				}
				switch x := val.(type) {
				case string:
					ref.Values[k] = x
				case bool:
					ref.Values[k] = strconv.FormatBool(x)
				case int64:
					ref.Values[k] = strconv.FormatInt(x, 10)
				default:
					d.add(at(k), "%skey %q: wrong type: want %s, got %s", label, k, want.Want(), typeName(val))
				}
			}
		}
		if len(ref.Values) == 0 {
			ref.Values = nil
		}
		out = append(out, ref)
	}
	return out
}

func typeName(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case int64:
		return "an integer"
	case bool:
		return "true or false"
	case map[string]any:
		return "a table"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
