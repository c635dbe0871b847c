package exec_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/libdns/libdns"

	"github.com/strictacme/strictacme/provider/exec"
)

// A Provider is ready from its zero value with Program set. The program
// here appends its arguments to the file named by RECORD_LOG.
func Example() {
	dir, err := os.MkdirTemp("", "exec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	calls := filepath.Join(dir, "calls")
	os.Setenv("RECORD_LOG", calls)
	defer os.Unsetenv("RECORD_LOG")
	prog, _ := filepath.Abs("testdata/record.sh")

	p := &exec.Provider{Program: prog}
	ctx := context.Background()
	rec := libdns.TXT{Name: "_acme-challenge.www", Text: "kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM"}
	if _, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{rec}); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(calls)
	fmt.Print(string(b))
	// Output:
	// present _acme-challenge.www.example.com. kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM
	// cleanup _acme-challenge.www.example.com. kPYxnB3V4uQ4Ah7v0pE9ysDsVCeQXVPkMVNcb3Y4bFM
}
