// Package serve holds the challenge server examples: a config for the host
// (serve.toml, with the systemd unit) and one for containers (compose.toml,
// with compose.yaml and the Containerfile). This test checks that both are
// configs `strictacme serve` accepts, and that compose.yaml publishes ports
// the containerised server actually listens on.
package serve

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/strictacme/strictacme/internal/challengeserver"
)

// parse reads an example config with the files it names (secrets, DSN)
// pointed at stand-ins, since they exist only on a real host.
func parse(t *testing.T, name string, files ...string) *challengeserver.Config {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	dir := t.TempDir()
	for _, f := range files {
		if !strings.Contains(text, `"`+f+`"`) {
			t.Fatalf("%s no longer names %s", name, f)
		}
		stand := filepath.Join(dir, filepath.Base(f))
		content := "token-0123456789abcdef"
		if strings.Contains(f, "dsn") {
			content = "postgres://strictacme:secret@db/strictacme?sslmode=disable"
		}
		if err := os.WriteFile(stand, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, `"`+f+`"`, `"`+stand+`"`)
	}
	c, err := challengeserver.ParseConfig(name, []byte(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestHostConfigIsValid(t *testing.T) {
	parse(t, "serve.toml", "/etc/strictacme/admin-token")
}

// A server in a container binds its own namespace's addresses; the host
// addresses it answers for are compose.yaml's business. compose.toml once
// carried the host's addresses, which a container cannot bind.
func TestComposeBindsInsideTheContainer(t *testing.T) {
	c := parse(t, "compose.toml", "/run/secrets/admin_token", "/run/secrets/serve_dsn")
	listening := map[string]bool{} // container port → bound on every address
	for _, l := range append(slices.Clone(c.General.Listen), c.API.Listen...) {
		host, port, err := net.SplitHostPort(l)
		if err != nil {
			t.Fatalf("listen %q: %v", l, err)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsUnspecified() {
			t.Errorf("compose.toml listens on %q: in a container, listen on 0.0.0.0 and choose the host address in compose.yaml", l)
		}
		listening[port] = true
	}

	src, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Ports   []string `yaml:"ports"`
			Volumes []string `yaml:"volumes"`
			Secrets []string `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]any `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(src, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	servers := 0
	for name, svc := range compose.Services {
		if !slices.Contains(svc.Volumes, "./compose.toml:/etc/strictacme/serve.toml:ro") {
			continue
		}
		servers++
		for _, p := range svc.Ports {
			spec, _, _ := strings.Cut(p, "/")
			parts := strings.Split(spec, ":")
			if container := parts[len(parts)-1]; !listening[container] {
				t.Errorf("%s publishes %q but compose.toml listens on no port %s", name, p, container)
			}
		}
		for _, s := range []string{"serve_dsn", "admin_token"} {
			if !slices.Contains(svc.Secrets, s) {
				t.Errorf("%s lacks secret %s that compose.toml reads from /run/secrets", name, s)
			}
			if _, ok := compose.Secrets[s]; !ok {
				t.Errorf("compose.yaml defines no secret %s", s)
			}
		}
	}
	if servers != 2 {
		t.Fatalf("%d services run compose.toml, want the two instances", servers)
	}
}
