package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

// hookFlags are --pre-hook, --deploy-hook, --post-hook and --hook-timeout,
// shared by issue, sandbox and renew. internal/hooks documents the
// environment each hook sees.
type hookFlags struct {
	pre, deployCmd, post string
	timeout              time.Duration
	env                  []string
	// outputs are the certificate's deploy outputs (deploy_flags.go).
	outputs deploy.Outputs
}

func (h *hookFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&h.pre, "pre-hook", "", "shell command run once before the first order of a run, only when something is due")
	fl.StringVar(&h.deployCmd, "deploy-hook", "", "shell command run after each issued or renewed certificate, with STRICTACME_CERT_NAME, STRICTACME_FULLCHAIN_PATH, ... set")
	fl.StringVar(&h.post, "post-hook", "", "shell command run once after the last order of a run, only when something was due")
	fl.DurationVar(&h.timeout, "hook-timeout", 5*time.Minute, "kill a hook (and every process it started) that runs longer than this")
	fl.StringSliceVar(&h.env, "hook-env", nil, "pass this variable of strictacme's environment on to hooks (repeatable; NAME* for a prefix); hooks otherwise get only PATH, HOME, user, locale and the STRICTACME_* hook variables")
}

func (h hookFlags) runner(w io.Writer) hooks.Runner {
	return hooks.Runner{Timeout: h.timeout, Output: w, PassEnv: h.env}
}

// around runs f, one order, between the pre and post hooks
// (renewal.AroundOne; exit code Hook when a hook fails).
func (h hookFlags) around(ctx context.Context, w io.Writer, due []string, f func() (*issue.Result, error)) (*issue.Result, error) {
	var res *issue.Result
	err := renewal.AroundOne(ctx, h.runner(w), h.pre, h.post, due[0], func() (bool, error) {
		var err error
		res, err = f()
		return res != nil && res.Certificate != nil, err
	}, func(line string) { fmt.Fprintln(w, line) })
	return res, err
}

// deploy brings the deploy outputs of a certificate just stored up to date,
// then runs the deploy hook; the first failure is the result.
func (h hookFlags) deploy(ctx context.Context, w io.Writer, root string, c *store.Certificate, renewed bool) error {
	err := h.install(ctx, w, root, c, renewed)
	if h.deployCmd == "" {
		return err
	}
	if herr := h.runner(w).Run(ctx, hooks.Deploy, c.Name, h.deployCmd, renewal.DeployEnvOf(root, c, renewed, h.outputs)); err == nil {
		err = herr
	}
	return err
}
