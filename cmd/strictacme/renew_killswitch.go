package main

import (
	"context"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/strictacme/strictacme/internal/propagation"
	"github.com/strictacme/strictacme/internal/store"
)

// killEnv is the debug variable of the crash tests: when it names a step,
// the process sends itself SIGKILL there, the way a power cut or an OOM kill
// would stop it. Steps, in the order of the flow:
//
//	written      the challenge records were written (testapi provider only)
//	propagation  the propagation wait has begun
//	finalized    the certificate was downloaded, nothing stored yet
//	storing      the new version's files are written, "current" not switched
//	stored       "current" switched, challenge records not yet removed
//
// Documented in docs/renewal.md; never set it in production.
const killEnv = "STRICTACME_TEST_KILL_AT"

var armOnce sync.Once

// armKillSwitch installs the kill points when killEnv is set.
func armKillSwitch(p *plan, logf func(string)) {
	if os.Getenv(killEnv) == "" {
		return
	}
	armOnce.Do(func() {
		store.SaveHook = killPoint
	})
	if p.strategy != nil {
		if _, ok := p.strategy.(killStrategy); !ok {
			p.strategy = killStrategy{p.strategy}
		}
	}
	logf(killEnv + " is set: this run kills itself at step " + os.Getenv(killEnv))
}

// killPoint sends SIGKILL to this process if killEnv names step.
func killPoint(step string) {
	if os.Getenv(killEnv) != step {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute) // never reached: SIGKILL cannot be caught
}

// killStrategy calls killPoint("propagation") when the wait begins.
type killStrategy struct{ propagation.Strategy }

func (k killStrategy) Wait(ctx context.Context, recs []propagation.Record, written time.Time, obs propagation.Observer) error {
	killPoint("propagation")
	return k.Strategy.Wait(ctx, recs, written, obs)
}

// Describe keeps the wrapped strategy's one-line decision.
func (k killStrategy) Describe() string { return propagation.Describe(k.Strategy) }
