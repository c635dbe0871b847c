package main

import (
	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/deploy"
)

// registerDeployFlags adds the deploy output flags (internal/deploy) of
// issue, sandbox and check; they are stored with the certificate, so
// renew keeps its outputs up to date without them.
func registerDeployFlags(cmd *cobra.Command, o *deploy.Outputs) {
	fl := cmd.Flags()
	fl.StringVar(&o.KeyFile, "install-key", "", "copy the private key to this file (atomically; mode 0600 unless --install-mode)")
	fl.StringVar(&o.CertFile, "install-cert", "", "copy the leaf certificate to this file")
	fl.StringVar(&o.ChainFile, "install-chain", "", "copy the intermediate certificates to this file")
	fl.StringVar(&o.FullchainFile, "install-fullchain", "", "copy leaf and intermediates to this file")
	fl.StringVar(&o.PEMFile, "install-pem", "", "write the private key and the full chain to this one file (HAProxy)")
	fl.StringVar(&o.PKCS12File, "install-pkcs12", "", "write key, leaf and intermediates as PKCS#12 to this file (Java, Windows); needs a password")
	fl.StringVar(&o.PKCS12PasswordFile, "pkcs12-password-file", "", "file holding the PKCS#12 password")
	fl.StringVar(&o.PKCS12PasswordEnv, "pkcs12-password-env", "", "name of the environment variable holding the PKCS#12 password")
	fl.BoolVar(&o.PKCS12Legacy, "pkcs12-legacy", false, "encrypt the PKCS#12 file with 3DES/SHA-1 for old readers (Java before 8u301, Windows Server 2016) instead of AES-256")
	fl.StringVar(&o.Owner, "install-owner", "", "owner of the installed files (user name or ID; needs root)")
	fl.StringVar(&o.Group, "install-group", "", "group of the installed files (group name or ID)")
	fl.StringVar(&o.Mode, "install-mode", "", "octal mode of the installed files, e.g. 0640 (default 0600 for files with the key, 0644 for the others)")
	fl.StringVar(&o.ReloadCommand, "reload-command", "", "shell command run after the files were written, e.g. 'systemctl reload nginx' (a failure exits 8, the certificate is kept, the next run retries)")
}
