package main

import "github.com/strictacme/strictacme/internal/steplog"

// What DNS providers log goes into the step log of the run using them
// (internal/steplog).
var (
	useProviderLog = steplog.Use
	providerLogger = steplog.Logger
)
