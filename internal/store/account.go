package store

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Account is an ACME account registration (RFC 8555 §7.1.2) as stored.
type Account struct {
	// URL is the account URL the CA returned in Location (the "kid").
	URL string `json:"url"`
	// Directory is the CA's directory URL.
	Directory string    `json:"directory"`
	Contact   []string  `json:"contact,omitempty"`
	Created   time.Time `json:"created"`
	// Key is the account private key; stored in account.key, never in JSON.
	Key crypto.Signer `json:"-"`
}

// ErrNoAccount is returned by LoadAccount when no account is stored yet.
var ErrNoAccount = errors.New("no account stored")

// AccountDir is the folder holding account name (default "default") for
// the CA at directory: its key and URL.
func (s *Store) AccountDir(directory, name string) string { return s.accountDir(directory, name) }

func (s *Store) accountDir(directory, name string) string {
	if name == "" {
		name = "default"
	}
	return filepath.Join(s.Root, "accounts", caDir(directory), name)
}

// LoadAccount returns the account called name (default "default") for the CA
// at directory, or ErrNoAccount.
func (s *Store) LoadAccount(directory, name string) (*Account, error) {
	dir := s.accountDir(directory, name)
	data, err := os.ReadFile(filepath.Join(dir, "account.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, err
	}
	var a Account
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "account.json"), err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "account.key"))
	if err != nil {
		return nil, fmt.Errorf("account key: %w", err)
	}
	a.Key, err = ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "account.key"), err)
	}
	return &a, nil
}

// SaveAccount stores a (key first, 0600, then the registration).
func (s *Store) SaveAccount(name string, a *Account) error {
	dir := s.accountDir(a.Directory, name)
	keyPEM, err := MarshalPrivateKey(a.Key)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "account.key"), keyPEM, 0o600); err != nil {
		return err
	}
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "account.json"), append(data, '\n'), 0o600)
}

// MarshalPrivateKey encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PKCS#8, PKCS#1 or SEC 1 PEM private key.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", key)
	}
	return signer, nil
}
