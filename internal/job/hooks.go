package job

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/issue"
	"github.com/strictacme/strictacme/internal/plan"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

// Hooks are the shell commands around orders and the deploy outputs of a
// certificate; internal/hooks documents the environment each hook sees.
type Hooks struct {
	// Pre and Post run once before the first and after the last order of
	// a run, only when something is due; Deploy after each certificate
	// stored.
	Pre, Deploy, Post string
	// Timeout kills a hook (and every process it started) running longer.
	Timeout time.Duration
	// Env names variables of this process passed on to hooks (NAME* for a
	// prefix).
	Env []string
	// Outputs are the certificate's deploy outputs (internal/deploy).
	Outputs deploy.Outputs
}

// HooksOf returns the hooks and deploy outputs stored in s.
func HooksOf(s plan.Settings) Hooks {
	return Hooks{Pre: s.PreHook, Deploy: s.DeployHook, Post: s.PostHook, Timeout: s.HookTimeout.D(), Outputs: s.Outputs}
}

// Runner runs h's commands with their output on w.
func (h Hooks) Runner(w io.Writer) hooks.Runner {
	return hooks.Runner{Timeout: h.Timeout, Output: w, PassEnv: h.Env}
}

// Around runs order, the one order of certificate name, between the pre
// and post hooks (renewal.AroundOne; exit code Hook when a hook fails).
func (h Hooks) Around(ctx context.Context, w io.Writer, name string, order func() (*issue.Result, error)) (*issue.Result, error) {
	var res *issue.Result
	err := renewal.AroundOne(ctx, h.Runner(w), h.Pre, h.Post, name, func() (bool, error) {
		var err error
		res, err = order()
		return res != nil && res.Certificate != nil, err
	}, lineWriter(w))
	return res, err
}

// DeployCert brings the deploy outputs of a certificate just stored under
// root up to date, then runs the deploy hook; the first failure is the
// result.
func (h Hooks) DeployCert(ctx context.Context, w io.Writer, root string, c *store.Certificate, renewed bool) error {
	err := h.Install(ctx, w, root, c, renewed)
	if h.Deploy == "" {
		return err
	}
	if herr := h.Runner(w).Run(ctx, hooks.Deploy, c.Name, h.Deploy, renewal.DeployEnvOf(root, c, renewed, h.Outputs)); err == nil {
		err = herr
	}
	return err
}

// Install brings the deploy outputs of certificate c, stored under root, up
// to date (deploy.Sync); the reload command runs as a hook with the deploy
// hook's variables. What was done is logged on w, one line each.
func (h Hooks) Install(ctx context.Context, w io.Writer, root string, c *store.Certificate, renewed bool) error {
	if h.Outputs.Empty() {
		return nil
	}
	env := renewal.DeployEnvOf(root, c, renewed, h.Outputs)
	reload := func(ctx context.Context, command string) error {
		return h.Runner(w).Run(ctx, hooks.Reload, c.Name, command, env)
	}
	done, err := deploy.Sync(ctx, h.Outputs, c, (&store.Store{Root: root}).CertDir(c.Name), reload)
	for _, line := range done {
		fmt.Fprintln(w, c.Name+": "+line)
	}
	return err
}

// lineWriter writes each line to w.
func lineWriter(w io.Writer) func(string) {
	return func(line string) { fmt.Fprintln(w, line) }
}
