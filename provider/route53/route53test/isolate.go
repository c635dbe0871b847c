package route53test

import (
	"os"
	"path/filepath"
	"testing"
)

// Isolate keeps the AWS SDK in t away from this machine's own AWS set-up:
// the shared config and credentials files are empty temporary files, the
// instance metadata service (IMDS) is off, and the AWS variables that
// could point elsewhere are cleared. Credentials must then be given
// explicitly.
func Isolate(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, v := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ROUTE_53", "AWS_CA_BUNDLE"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}
