// Package deploy puts a stored certificate where services read it: copies
// of the key, certificate, chain and full chain with the owner, group and
// mode the service needs (acme.sh's --install-cert), one PEM file with the
// key and the full chain (HAProxy), a PKCS#12 file (Java, Windows), then a
// reload command.
//
// Every file is written atomically (internal/atomicfile): a service that
// reads it sees the old or the new content, never a mix, and never with
// the wrong mode or group. What was deployed is remembered per output in
// StateFile next to the certificate (the serial and the output's settings),
// so each output is redone only when the certificate or the output's
// settings changed, or its file is gone; the reload command runs when a
// file was written, or when it has not yet succeeded for this certificate.
// A failed output is left unrecorded and so is tried again by the next run.
package deploy

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/strictacme/strictacme/internal/atomicfile"
	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/redact"
	"github.com/strictacme/strictacme/internal/store"
)

// Outputs are the deploy outputs of one certificate. The JSON names are the
// config file's keys (plan.Settings embeds Outputs); a path is absolute
// once stored.
type Outputs struct {
	// KeyFile, CertFile, ChainFile and FullchainFile receive copies of
	// the private key, the leaf, the intermediates and leaf plus
	// intermediates (PEM).
	KeyFile       string `json:"install_key,omitempty"`
	CertFile      string `json:"install_cert,omitempty"`
	ChainFile     string `json:"install_chain,omitempty"`
	FullchainFile string `json:"install_fullchain,omitempty"`
	// PEMFile receives the private key followed by the full chain in one
	// file (HAProxy's crt).
	PEMFile string `json:"install_pem,omitempty"`
	// PKCS12File receives key, leaf and intermediates as PKCS#12 (RFC
	// 7292), encrypted with the password read from PKCS12PasswordFile or
	// the environment variable PKCS12PasswordEnv: AES-256-CBC with
	// PBKDF2-SHA256, or with PKCS12Legacy 3DES and SHA-1 for readers that
	// know nothing newer (Java before 8u301, Windows Server 2016).
	PKCS12File         string `json:"install_pkcs12,omitempty"`
	PKCS12PasswordFile string `json:"pkcs12_password_file,omitempty"`
	PKCS12PasswordEnv  string `json:"pkcs12_password_env,omitempty"`
	PKCS12Legacy       bool   `json:"pkcs12_legacy,omitempty"`
	// Owner and Group (names or numeric IDs) own every file written; ""
	// keeps the user and group strictacme runs as.
	Owner string `json:"install_owner,omitempty"`
	Group string `json:"install_group,omitempty"`
	// Mode is the octal mode of every file written ("0640"); "" is 0600
	// for files holding the key and 0644 for the others.
	Mode string `json:"install_mode,omitempty"`
	// ReloadCommand is a shell command run after files were written (or,
	// without files, once per certificate), e.g. "systemctl reload nginx".
	ReloadCommand string `json:"reload_command,omitempty"`
}

// Keys returns the config keys of Outputs (their JSON names).
func Keys() []string {
	var out []string
	t := reflect.TypeFor[Outputs]()
	for i := 0; i < t.NumField(); i++ {
		out = append(out, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return out
}

// Kinds of file output, as named in logs, state and the keys they come from.
const (
	KindKey       = "key"
	KindCert      = "cert"
	KindChain     = "chain"
	KindFullchain = "fullchain"
	KindPEM       = "pem"
	KindPKCS12    = "pkcs12"
)

// file is one file output.
type file struct {
	kind, key, path string
	secret          bool // holds the private key
}

func (o Outputs) files() []file {
	all := []file{
		{KindKey, "install_key", o.KeyFile, true},
		{KindCert, "install_cert", o.CertFile, false},
		{KindChain, "install_chain", o.ChainFile, false},
		{KindFullchain, "install_fullchain", o.FullchainFile, false},
		{KindPEM, "install_pem", o.PEMFile, true},
		{KindPKCS12, "install_pkcs12", o.PKCS12File, true},
	}
	var out []file
	for _, f := range all {
		if f.path != "" {
			out = append(out, f)
		}
	}
	return out
}

// Empty reports whether o deploys nothing.
func (o Outputs) Empty() bool { return len(o.files()) == 0 && o.ReloadCommand == "" }

// Abs returns o with every path made absolute (relative to the working
// directory), as stored for renewals run from elsewhere.
func (o Outputs) Abs() Outputs {
	for _, p := range []*string{&o.KeyFile, &o.CertFile, &o.ChainFile, &o.FullchainFile, &o.PEMFile, &o.PKCS12File, &o.PKCS12PasswordFile} {
		if *p != "" {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
	}
	return o
}

// Problem is one thing wrong with Outputs: Key is the config key, Msg what
// is wrong and how to fix it.
type Problem struct{ Key, Msg string }

// Validate returns every problem of o; nil means Sync can run. It looks up
// owner and group, checks that each file's folder exists and that the
// PKCS#12 password can be read; it writes nothing.
func (o Outputs) Validate() []Problem {
	var ps []Problem
	add := func(key, format string, a ...any) { ps = append(ps, Problem{key, fmt.Sprintf(format, a...)}) }
	seen := map[string]string{}
	for _, f := range o.files() {
		if prev, dup := seen[filepath.Clean(f.path)]; dup {
			add(f.key, "%s is also %s; give each output its own file", f.path, prev)
			continue
		}
		seen[filepath.Clean(f.path)] = f.key
		if info, err := os.Stat(filepath.Dir(f.path)); err != nil || !info.IsDir() {
			add(f.key, "folder %s does not exist; create it or choose another path", filepath.Dir(f.path))
		} else if info, err := os.Stat(f.path); err == nil && info.IsDir() {
			add(f.key, "%s is a folder; give a file name", f.path)
		}
	}
	if mode, err := ParseMode(o.Mode); err != nil {
		add("install_mode", "%v", err)
	} else if mode&0o007 != 0 && (o.KeyFile != "" || o.PEMFile != "") {
		add("install_mode", "%q lets every user of the machine at the private key in install_key or install_pem; give e.g. \"0640\" with install_group", o.Mode)
	}
	// Checked now, not after the order: a chown this process may not do
	// would fail only once the CA has issued the certificate.
	if uid, err := lookupUser(o.Owner); err != nil {
		add("install_owner", "%v", err)
	} else if uid != -1 && !mayChown(uid, -1) {
		add("install_owner", "%q: only root may give files to another user; run as root or leave install_owner out", o.Owner)
	}
	if gid, err := lookupGroup(o.Group); err != nil {
		add("install_group", "%v", err)
	} else if gid != -1 && !mayChown(-1, gid) {
		add("install_group", "%q: this user is not in that group, so it cannot give files to it; run as root or as a member", o.Group)
	}
	switch {
	case o.PKCS12PasswordFile != "" && o.PKCS12PasswordEnv != "":
		add("pkcs12_password_file", "set only one of pkcs12_password_file and pkcs12_password_env")
	case o.PKCS12File == "" && (o.PKCS12PasswordFile != "" || o.PKCS12PasswordEnv != "" || o.PKCS12Legacy):
		add("install_pkcs12", "the PKCS#12 settings need the file to write; set install_pkcs12")
	case o.PKCS12File != "" && o.PKCS12PasswordFile == "" && o.PKCS12PasswordEnv == "":
		add("pkcs12_password_file", "install_pkcs12 needs a password; set pkcs12_password_file (a file, mode 0600) or pkcs12_password_env (a variable's name)")
	case o.PKCS12File != "":
		if _, err := o.password(); err != nil {
			key := "pkcs12_password_file"
			if o.PKCS12PasswordEnv != "" {
				key = "pkcs12_password_env"
			}
			add(key, "%v", err)
		}
	}
	return ps
}

// ParseMode reads an octal file mode ("0640", "640"); "" is 0, meaning
// each file's default.
func ParseMode(s string) (os.FileMode, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32)
	if err != nil || v > 0o777 {
		return 0, fmt.Errorf("%q: give an octal mode such as \"0640\"", s)
	}
	if v&0o400 == 0 {
		return 0, fmt.Errorf("%q leaves the owner unable to read the file; give e.g. \"0640\"", s)
	}
	return os.FileMode(v), nil
}

// lookupUser returns the uid of name (or a number); -1 for "".
func lookupUser(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if runtime.GOOS == "windows" {
		return 0, errors.New("owner cannot be set on Windows; remove it and use the folder's ACL")
	}
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("no user %q on this machine; give an existing user name or ID", name)
	}
	return strconv.Atoi(u.Uid)
}

// lookupGroup returns the gid of name (or a number); -1 for "".
func lookupGroup(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if runtime.GOOS == "windows" {
		return 0, errors.New("group cannot be set on Windows; remove it and use the folder's ACL")
	}
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("no group %q on this machine; give an existing group name or ID", name)
	}
	return strconv.Atoi(g.Gid)
}

// password reads the PKCS#12 password; it is registered as a secret.
func (o Outputs) password() (string, error) {
	var v string
	switch {
	case o.PKCS12PasswordEnv != "":
		val, ok := os.LookupEnv(o.PKCS12PasswordEnv)
		if !ok || val == "" {
			return "", fmt.Errorf("environment variable %s is not set; export it or use pkcs12_password_file", o.PKCS12PasswordEnv)
		}
		v = val
	case o.PKCS12PasswordFile != "":
		b, err := os.ReadFile(o.PKCS12PasswordFile)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("cannot read %s: %v; point it at a readable file", o.PKCS12PasswordFile, err)
		}
		// The first line, as the docs say: editors add a newline, and a
		// comment or a second line must not become part of the password.
		v, _, _ = strings.Cut(string(b), "\n")
		v = strings.TrimRight(v, "\r")
		if v == "" {
			return "", fmt.Errorf("%s is empty; put the password in it", o.PKCS12PasswordFile)
		}
	}
	redact.Add(v)
	return v, nil
}

// StateFile is the file, in a certificate's folder, that records what was
// deployed.
const StateFile = "deploy.json"

// State is what was deployed of one certificate (StateFile). It holds no
// secret: the PKCS#12 password is recorded by where it comes from only.
type State struct {
	// Files by absolute path.
	Files map[string]Record `json:"files,omitempty"`
	// Reload is the last reload command that succeeded.
	Reload *Record `json:"reload,omitempty"`
}

// Record is one output as last deployed: the certificate's serial and the
// output's settings (Spec: what else decides the file's bytes and
// attributes; for the reload, the command).
type Record struct {
	Kind   string `json:"kind,omitempty"`
	Serial string `json:"serial"`
	Spec   string `json:"spec"`
}

// LoadState reads the StateFile in certDir; missing or unreadable is empty
// (everything is deployed again, which is safe).
func LoadState(certDir string) *State {
	s := &State{}
	if b, err := os.ReadFile(filepath.Join(certDir, StateFile)); err == nil {
		_ = json.Unmarshal(b, s)
	}
	if s.Files == nil {
		s.Files = map[string]Record{}
	}
	return s
}

func saveState(certDir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(certDir, StateFile), append(b, '\n'), 0o600)
}

// Reloader runs the reload command; strictacme runs it as a hook
// (internal/hooks) with the deploy hook's variables.
type Reloader func(ctx context.Context, command string) error

// Error is a deploy output that failed. Its exit code is exitcode.Hook:
// like a failing deploy hook, the certificate stays stored and the output
// is tried again by the next run.
type Error struct {
	// Output is the kind ("key", "pem", ..., "reload") and Path its file.
	Output, Path string
	Err          error
}

func (e *Error) Error() string {
	if e.Output == "reload" {
		return e.Err.Error()
	}
	if e.Path == "" {
		return fmt.Sprintf("deploy %s: %v", e.Output, e.Err)
	}
	return fmt.Sprintf("deploy %s %s: %v", e.Output, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sync brings the outputs o of certificate c up to date, recording what it
// did in the StateFile in certDir (the certificate's folder): each file
// whose record differs or which is missing is written, then the reload
// command runs when a file was written or it has not yet succeeded for
// this certificate. It returns one line per thing done (nothing when all
// was up to date). The first failure stops it; the error has exit code
// exitcode.Hook and the outputs done before it stay recorded.
func Sync(ctx context.Context, o Outputs, c *store.Certificate, certDir string, reload Reloader) (done []string, err error) {
	if o.Empty() {
		return nil, nil
	}
	fail := func(e *Error) error { return exitcode.With(exitcode.Hook, e) }
	st := LoadState(certDir)
	serial := c.Meta.Serial
	mode, err := ParseMode(o.Mode)
	if err != nil {
		return nil, fail(&Error{Output: "install_mode", Err: err})
	}
	uid, err := lookupUser(o.Owner)
	if err != nil {
		return nil, fail(&Error{Output: "install_owner", Err: err})
	}
	gid, err := lookupGroup(o.Group)
	if err != nil {
		return nil, fail(&Error{Output: "install_group", Err: err})
	}
	wrote := false
	for _, f := range o.files() {
		perm := mode
		if perm == 0 {
			perm = 0o644
			if f.secret {
				perm = 0o600
			}
		}
		spec := fmt.Sprintf("mode=%04o owner=%s group=%s", perm, o.Owner, o.Group)
		if f.kind == KindPKCS12 {
			spec += fmt.Sprintf(" password_file=%s password_env=%s legacy=%t", o.PKCS12PasswordFile, o.PKCS12PasswordEnv, o.PKCS12Legacy)
		}
		path, _ := filepath.Abs(f.path)
		want := Record{Kind: f.kind, Serial: serial, Spec: spec}
		if _, statErr := os.Stat(path); statErr == nil && st.Files[path] == want {
			continue
		}
		data, err := o.content(f.kind, c)
		if err == nil {
			err = atomicfile.WriteFileOwned(path, data, perm, uid, gid)
		}
		if err != nil {
			return done, fail(&Error{Output: f.kind, Path: path, Err: err})
		}
		st.Files[path] = want
		wrote = true
		owner := ""
		if o.Owner != "" || o.Group != "" {
			owner = " " + o.Owner + ":" + o.Group
		}
		done = append(done, fmt.Sprintf("installed %s %s (%04o%s)", f.kind, path, perm, owner))
		if err := saveState(certDir, st); err != nil {
			return done, fail(&Error{Output: "state", Path: filepath.Join(certDir, StateFile), Err: err})
		}
	}
	if o.ReloadCommand == "" {
		return done, nil
	}
	want := Record{Serial: serial, Spec: o.ReloadCommand}
	if !wrote && st.Reload != nil && *st.Reload == want {
		return done, nil
	}
	if err := reload(ctx, o.ReloadCommand); err != nil {
		// Not recorded: the next run reloads again.
		return done, exitcode.With(exitcode.Hook, &Error{Output: "reload", Err: err})
	}
	st.Reload = &want
	done = append(done, "reload command succeeded")
	if err := saveState(certDir, st); err != nil {
		return done, fail(&Error{Output: "state", Path: filepath.Join(certDir, StateFile), Err: err})
	}
	return done, nil
}

// content is the bytes of one file output of c.
func (o Outputs) content(kind string, c *store.Certificate) ([]byte, error) {
	if len(c.KeyPEM) == 0 && (kind == KindKey || kind == KindPEM || kind == KindPKCS12) {
		// Settings validation refuses these with a CSR; never write an
		// output without its key.
		return nil, errors.New("no private key is stored for this certificate (it was ordered for your CSR); remove this output")
	}
	switch kind {
	case KindKey:
		return c.KeyPEM, nil
	case KindCert:
		return c.CertPEM, nil
	case KindChain:
		return c.ChainPEM, nil
	case KindFullchain:
		return c.FullchainPEM(), nil
	case KindPEM:
		return slices.Concat(c.KeyPEM, c.FullchainPEM()), nil
	case KindPKCS12:
		return o.pkcs12(c)
	}
	return nil, fmt.Errorf("unknown output %q", kind)
}

func (o Outputs) pkcs12(c *store.Certificate) ([]byte, error) {
	pw, err := o.password()
	if err != nil {
		return nil, err
	}
	key, err := store.ParsePrivateKey(c.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("the stored private key: %v", err)
	}
	leaf := c.Leaf
	if leaf == nil {
		if leaf, err = parseCert(c.CertPEM); err != nil {
			return nil, err
		}
	}
	var chain []*x509.Certificate
	for rest := c.ChainPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the stored chain: %v", err)
		}
		chain = append(chain, cert)
	}
	enc := pkcs12.Modern2023
	if o.PKCS12Legacy {
		enc = pkcs12.LegacyDES
	}
	return enc.Encode(key, leaf, chain, pw)
}

func parseCert(data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("the stored certificate holds no PEM block")
	}
	return x509.ParseCertificate(b.Bytes)
}

// mayChown says whether this process may give its files uid and gid (-1
// for unchanged).
func mayChown(uid, gid int) bool {
	if runtime.GOOS == "windows" {
		return true
	}
	groups, _ := os.Getgroups()
	return canChown(os.Geteuid(), os.Getegid(), groups, uid, gid)
}

// canChown is chown(2)'s rule: root may give any owner and group; another
// user keeps its own uid and picks among its own groups.
func canChown(euid, egid int, groups []int, uid, gid int) bool {
	if euid == 0 {
		return true
	}
	if uid != -1 && uid != euid {
		return false
	}
	return gid == -1 || gid == egid || slices.Contains(groups, gid)
}
