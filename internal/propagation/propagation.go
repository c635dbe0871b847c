// Package propagation decides when the CA will be able to see the challenge
// records that were just written: the "learn when it is visible" job of a
// DNS-01 client. Strategies plug in behind one small interface.
package propagation

import (
	"context"
	"time"
)

// Record is one TXT value that must become visible at an FQDN.
type Record struct {
	// FQDN is the absolute name the CA will query (after delegation), with
	// the trailing dot, lower case, A-labels.
	FQDN string
	// Value is the TXT value (for dns-01, the base64url digest, RFC 8555 §8.4).
	Value string
}

// Strategy waits until every record is visible, the context ends, or it can
// tell the records will not become visible in time.
//
// written is the time of the last successful provider write: a strategy MUST
// NOT send a query for any record's FQDN before it is called (callers call it
// only after the write succeeded: RFC 2308 negative caching, case PR10), and
// any fixed wait is measured from written, not from the call (case PR12).
// Wait reports progress through the Observer, which may be nil.
type Strategy interface {
	Wait(ctx context.Context, recs []Record, written time.Time, obs Observer) error
	// Name is the strategy's name as accepted by --propagation.
	Name() string
}

// Observer receives one line per noteworthy event (a resolver saw NXDOMAIN
// with a remaining negative-cache time, an endpoint failed and was dropped,
// all records visible). It MUST be safe for concurrent use.
type Observer func(event string)
