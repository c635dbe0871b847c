package challengeserver

import (
	"fmt"
	"testing"

	"github.com/strictacme/strictacme/internal/challengeserver/store/storetest"
)

// Two instances on one PostgreSQL database answer the same values; an update
// through one is in the other's DNS within one second (LISTEN/NOTIFY, with
// polling as the fallback).
func TestTwoInstancesPostgres(t *testing.T) {
	dsn := storetest.Postgres(t)
	testTwoInstances(t, fmt.Sprintf(testConfig, "postgres", dsn))
}
