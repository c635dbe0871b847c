package testworld

import (
	"io"
	"log"
)

// nilLogger discards the HTTP servers' own error logs (TLS handshake
// failures from clients that reject our certificates are expected).
func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
