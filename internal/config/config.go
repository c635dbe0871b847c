// Package config reads strictacme's TOML configuration file: defaults,
// DNS providers with their zones and credentials, and any number of
// certificates. Every problem in a file is reported as one line naming the
// file, the line, the table and the key, e.g.
//
//	strictacme.toml:12: certificate "web": unknown key "nmaes"; did you mean "names"?
//
// and Load returns all of them at once, so a file is fixed in one pass.
// Secrets are never read from the file itself: a provider's key comes from
// an environment variable (api_key_env) or a file (api_key_file), and a
// Secret prints as "[redacted]".
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// File is a decoded configuration file.
type File struct {
	Defaults     Defaults             `toml:"defaults"`
	Providers    map[string]*Provider `toml:"providers"`
	Certificates []*Certificate       `toml:"certificate"`

	// Path is the file as given to Load.
	Path string `toml:"-"`
}

// Propagation are the propagation settings; zero fields inherit.
type Propagation struct {
	// Strategy is a propagation.ByName name: doh, resolver, authoritative,
	// auto, provider, wait, none.
	Strategy string `toml:"propagation"`
	// Resolvers are resolver specs (resolver.New).
	Resolvers []string `toml:"resolvers"`
	// Quorum of resolvers that must see the records; 0 means a majority of
	// those that answer, at least one.
	Quorum int `toml:"quorum"`
	// Wait is the fixed delay of "wait", the settle delay of "provider".
	Wait Duration `toml:"propagation_wait"`
	// Timeout bounds the check; the fallback strategy runs after it.
	Timeout Duration `toml:"propagation_timeout"`
	// Fallback is the strategy used when Strategy fails.
	Fallback string `toml:"propagation_fallback"`
	// RequestTimeout bounds one DNS question.
	RequestTimeout Duration `toml:"request_timeout"`
}

// Defaults apply to every certificate.
type Defaults struct {
	Server     string   `toml:"server"`
	Email      string   `toml:"email"`
	Path       string   `toml:"path"`
	CACerts    []string `toml:"ca_certs"`
	KeyType    string   `toml:"key_type"`
	Challenges []string `toml:"challenges"`
	AcceptTOS  bool     `toml:"accept_tos"`
	Timeout    Duration `toml:"timeout"`
	IPv4Only   bool     `toml:"ipv4_only"`
	// AllowPort53 lets auto and check send plain DNS to port 53.
	AllowPort53 bool `toml:"allow_port53"`
	FollowCNAME bool `toml:"follow_cname"`
	Propagation
}

// Provider is one configured DNS provider ([providers.NAME]).
type Provider struct {
	// Type selects the implementation: exec, namecheap (and types added
	// with RegisterType).
	Type string `toml:"type"`
	// Zones this provider serves; the longest matching zone wins across
	// providers. Empty means "every name of the certificates that name it
	// with provider =".
	Zones []string `toml:"zones"`
	// exec
	Program string `toml:"program"`
	// namecheap
	APIUser     string `toml:"api_user"`
	APIUserEnv  string `toml:"api_user_env"`
	APIUserFile string `toml:"api_user_file"`
	APIKey      string `toml:"api_key"` // refused: secrets are never inline
	APIKeyEnv   string `toml:"api_key_env"`
	APIKeyFile  string `toml:"api_key_file"`
	ClientIP    string `toml:"client_ip"`
	Endpoint    string `toml:"endpoint"`
	Sandbox     bool   `toml:"sandbox"`
	// SingleValue marks a provider that keeps one TXT value per name.
	SingleValue bool `toml:"single_value"`

	// Name is the key in [providers]; User and Key are the resolved
	// credentials.
	Name string `toml:"-"`
	User Secret `toml:"-"`
	Key  Secret `toml:"-"`
	// Line of the [providers.NAME] header.
	Line int `toml:"-"`
}

// Certificate is one [[certificate]].
type Certificate struct {
	Name       string   `toml:"name"`
	Names      []string `toml:"names"`
	KeyType    string   `toml:"key_type"`
	Profile    string   `toml:"profile"`
	Challenges []string `toml:"challenges"`
	// Provider writes every name not covered by a provider's zones.
	Provider string `toml:"provider"`
	// ZoneProviders maps a zone to a provider name for this certificate.
	ZoneProviders map[string]string `toml:"providers"`
	// ChallengeAlias is the alias of every name (acme.sh --challenge-alias).
	ChallengeAlias string `toml:"challenge_alias"`
	// ChallengeAliases and ChallengeTargets are per name.
	ChallengeAliases map[string]string `toml:"challenge_aliases"`
	ChallengeTargets map[string]string `toml:"challenge_targets"`
	FollowCNAME      *bool             `toml:"follow_cname"`
	Propagation

	// Line of the [[certificate]] header.
	Line int `toml:"-"`
}

// Secret is a credential read from the environment or a file. It prints
// as "[redacted]" with fmt and in JSON.
type Secret string

func (Secret) String() string                  { return "[redacted]" }
func (Secret) GoString() string                { return "[redacted]" }
func (Secret) MarshalText() ([]byte, error)    { return []byte("[redacted]"), nil }
func (s Secret) Reveal() string                { return string(s) }
func (s Secret) Format(f fmt.State, _ rune)    { _, _ = f.Write([]byte("[redacted]")) }
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// Duration is a time.Duration written as "90s", "2m" or whole seconds.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration ("2m30s"); a bare number is seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if n, err := strconv.Atoi(s); err == nil {
		d.Duration = time.Duration(n) * time.Second
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a duration such as \"90s\" or \"2m\", got %q", s)
	}
	d.Duration = v
	return nil
}

// Env reads an environment variable and a file; Load uses os.LookupEnv and
// os.ReadFile unless Options replace them.
type Options struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// Error is every problem found in a file, one line each, in line order.
type Error struct{ Lines []string }

func (e *Error) Error() string { return strings.Join(e.Lines, "\n") }

// types lists the provider types and the keys each accepts besides type,
// zones and single_value.
var types = map[string][]string{
	"exec":      {"program"},
	"namecheap": {"api_user", "api_user_env", "api_user_file", "api_key", "api_key_env", "api_key_file", "client_ip", "endpoint", "sandbox"},
}

// RegisterType adds a provider type with the extra keys it accepts (tests
// add the test world's provider). Not safe to call concurrently with Load.
func RegisterType(name string, keys ...string) { types[name] = keys }

// Load reads and checks path. The error is *Error (one line per problem)
// or an I/O error.
func Load(path string, opts Options) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %v", path, errText(err))
	}
	return Parse(path, data, opts)
}

// Parse is Load on data already read; path names the file in messages.
func Parse(path string, data []byte, opts Options) (*File, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	base := filepath.Base(path)
	idx := scan(string(data))
	var f File
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, &Error{Lines: []string{decodeError(base, idx, err)}}
	}
	f.Path = path
	c := &checker{file: base, idx: idx, f: &f, opts: opts}
	c.undecoded(md.Undecoded())
	c.check()
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].line < c.errs[j].line })
		e := &Error{}
		for _, m := range c.errs {
			e.Lines = append(e.Lines, m.text)
		}
		return nil, e
	}
	return &f, nil
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

var typeErr = regexp.MustCompile(`line (\d+) \(last key "([^"]+)"\): incompatible types: TOML value has type (\S+); destination has type (\S+)`)

// decodeError turns a TOML syntax or type error into one line.
func decodeError(file string, idx *index, err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		where := idx.describe(pe.Position.Line, pe.LastKey)
		return fmt.Sprintf("%s:%d: %s%s", file, pe.Position.Line, where, strings.TrimPrefix(pe.Message, "toml: "))
	}
	if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		key := m[2][strings.LastIndex(m[2], ".")+1:]
		return fmt.Sprintf("%s:%d: %skey %q: wrong type: want %s, got %s", file, line, idx.describeTable(line), key, typeName(m[4]), typeName(m[3]))
	}
	return fmt.Sprintf("%s: %s", file, strings.TrimPrefix(err.Error(), "toml: "))
}

func typeName(t string) string {
	switch strings.ToLower(t) {
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "integer", "int", "int64":
		return "an integer"
	case "bool", "boolean":
		return "true or false"
	case "map", "hash", "table":
		return "a table"
	case "float", "float64":
		return "a number"
	}
	return t
}
