package renewal

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/strictacme/strictacme/internal/exitcode"
	"github.com/strictacme/strictacme/internal/hooks"
)

func TestAroundOne(t *testing.T) {
	orderErr := exitcode.With(exitcode.CA, errors.New("order refused"))
	tests := []struct {
		name      string
		pre, post string
		stored    bool
		orderErr  error
		ordered   bool
		want      string // error kind: "", "pre", "post" or "order"
		logged    bool   // the post hook's failure went to the log
		hookLines string // what the hooks printed
	}{
		{name: "both hooks run around a stored certificate", pre: "echo pre $STRICTACME_DUE_CERTS", post: "echo post renewed=$STRICTACME_RENEWED_CERTS",
			stored: true, ordered: true, hookLines: "pre web\npost renewed=web\n"},
		{name: "a failing pre hook stops the order", pre: "exit 3", post: "echo post", ordered: false, want: "pre"},
		{name: "a failing post hook is the error of a stored certificate", post: "exit 4", stored: true, ordered: true, want: "post"},
		{name: "a failed order stays the error and the post hook's failure is logged", post: "exit 4", orderErr: orderErr, ordered: true, want: "order", logged: true},
		{name: "the post hook sees a failed order", post: "echo failed=$STRICTACME_FAILED_CERTS", orderErr: orderErr, ordered: true, want: "order", hookLines: "failed=web\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			var logged []string
			ordered := false
			err := AroundOne(context.Background(), hooks.Runner{Output: &out}, tt.pre, tt.post, "web", func() (bool, error) {
				ordered = true
				return tt.stored, tt.orderErr
			}, func(l string) { logged = append(logged, l) })
			if ordered != tt.ordered {
				t.Errorf("order ran: %v, want %v", ordered, tt.ordered)
			}
			var he *hooks.Error
			switch tt.want {
			case "":
				if err != nil {
					t.Errorf("error %v", err)
				}
			case "pre", "post":
				if !errors.As(err, &he) || string(he.Kind) != tt.want || exitcode.Of(err) != exitcode.Hook {
					t.Errorf("error %v (exit %d), want the %s hook's with exit code Hook", err, exitcode.Of(err), tt.want)
				}
			case "order":
				if err != orderErr {
					t.Errorf("error %v, want the order's", err)
				}
			}
			if tt.logged != (len(logged) == 1 && strings.HasPrefix(logged[0], "strictacme: post hook")) {
				t.Errorf("log %q", logged)
			}
			if tt.hookLines != "" && out.String() != tt.hookLines {
				t.Errorf("hooks printed %q, want %q", out.String(), tt.hookLines)
			}
		})
	}
}
