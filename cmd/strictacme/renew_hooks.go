package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/strictacme/strictacme/internal/cliflag"
	"github.com/strictacme/strictacme/internal/hooks"
	"github.com/strictacme/strictacme/internal/job"
)

// registerHookFlags adds --pre-hook, --deploy-hook, --post-hook,
// --hook-timeout and --hook-env, shared by issue, sandbox, renew and run.
// internal/hooks documents the environment each hook sees.
func registerHookFlags(cmd *cobra.Command, h *job.Hooks) {
	fl := cmd.Flags()
	fl.StringVar(&h.Pre, "pre-hook", "", "shell command run once before the first order of a run, only when something is due")
	fl.StringVar(&h.Deploy, "deploy-hook", "", "shell command run after each issued or renewed certificate, with STRICTACME_CERT_NAME, STRICTACME_FULLCHAIN_PATH, ... set")
	fl.StringVar(&h.Post, "post-hook", "", "shell command run once after the last order of a run, only when something was due")
	fl.DurationVar(&h.Timeout, "hook-timeout", 5*time.Minute, "kill a hook (and every process it started) that runs longer than this")
	fl.Var(cliflag.CheckedList(&h.Env, hooks.CheckPassEnv), "hook-env", "pass this variable of strictacme's environment on to hooks (repeatable; NAME* for a prefix); hooks otherwise get only PATH, HOME, user, locale and the STRICTACME_* hook variables")
}
