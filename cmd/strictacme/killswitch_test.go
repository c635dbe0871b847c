package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/strictacme/strictacme/internal/job"
	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

// killEnv is the variable of the crash tests, read only by the test
// binary (which runs as strictacme in script and subprocess tests): when
// it names a step, the process sends itself SIGKILL there, the way a power
// cut or an OOM kill would stop it. Steps, in the order of the flow:
//
//	written      the challenge records were written (testapi provider only)
//	propagation  the propagation wait has begun
//	finalized    the certificate was downloaded, nothing stored yet
//	storing      the new version's files are written, "current" not switched
//	stored       "current" switched, challenge records not yet removed
const killEnv = "STRICTACME_TEST_KILL_AT"

func init() { beforeOrder = armKillSwitch }

var armOnce sync.Once

// armKillSwitch installs the kill points when killEnv is set.
func armKillSwitch(j *job.Job, logf func(string)) {
	if os.Getenv(killEnv) == "" {
		return
	}
	armOnce.Do(func() {
		store.SaveHook = killPoint
	})
	if j.Strategy != nil {
		if _, ok := j.Strategy.(killStrategy); !ok {
			j.Strategy = killStrategy{j.Strategy}
		}
	}
	logf(killEnv + " is set: this run kills itself at step " + os.Getenv(killEnv))
}

// killPoint kills this process (SIGKILL on Unix, TerminateProcess on
// Windows) if killEnv names step.
func killPoint(step string) {
	if os.Getenv(killEnv) != step {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	time.Sleep(time.Minute) // never reached: the kill cannot be caught
}

// killStrategy calls killPoint("propagation") when the wait begins.
type killStrategy struct{ propagation.Strategy }

func (k killStrategy) Wait(ctx context.Context, recs []propagation.Record, written time.Time, obs propagation.Observer) error {
	killPoint("propagation")
	return k.Strategy.Wait(ctx, recs, written, obs)
}

// Describe keeps the wrapped strategy's one-line decision.
func (k killStrategy) Describe() string { return propagation.Describe(k.Strategy) }

// The test binary reads the fake clock of the renewal scripts:
// STRICTACME_NOW moves the clock of renewal decisions (renew, list, revoke
// and run), e.g. +1465h.
func init() {
	c, err := renewal.ClockFromEnv(os.LookupEnv)
	if err != nil {
		panic(err)
	}
	now = c
	// Subprocess tests shorten the pause between authorization polls.
	if v := os.Getenv("STRICTACME_POLL_INTERVAL"); v != "" {
		if pollInterval, err = time.ParseDuration(v); err != nil {
			panic(err)
		}
	}
}
