package plan

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// legoHTTPTimeout returns client with the timeout lego's PREFIX_HTTP_TIMEOUT
// variable gives (seconds, or a duration), so a lego job's bound on each
// API call carries over; client itself when the variable is unset. A nil
// client stays nil (the provider's own default) unless a timeout is set.
func legoHTTPTimeout(get func(string) (string, bool), name string, client *http.Client) (*http.Client, error) {
	v, _ := get(name)
	if v = strings.TrimSpace(v); v == "" {
		return client, nil
	}
	d, err := parseHTTPTimeout(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %v", name, v, err)
	}
	c := &http.Client{}
	if client != nil {
		*c = *client
	}
	c.Timeout = d
	return c, nil
}

// parseHTTPTimeout parses a PREFIX_HTTP_TIMEOUT value: positive whole
// seconds, or a duration. Its error says what to give, not the setting.
func parseHTTPTimeout(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	d, err := time.ParseDuration(v)
	if n, err2 := strconv.Atoi(v); err2 == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d <= 0 {
		return 0, errors.New("give a number of seconds, as lego reads it")
	}
	return d, nil
}
