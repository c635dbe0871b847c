package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The hidden man command writes a page per command, renew's included.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	root := newRootCmd()
	root.SetArgs([]string{"man", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "strictacme-renew.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), ".TH \"STRICTACME\" \"1\"") || !strings.Contains(string(data), "metrics-file") {
		t.Errorf("strictacme-renew.1 lacks its header or flags:\n%s", data)
	}
}
