package providers

// SingleValue is implemented by providers that keep only one TXT value per
// record name (an RRset-replace API without merge). For such a provider two
// challenges that share one record name (an apex and its wildcard, case
// DL03) cannot be presented together: the order flow validates them one
// after the other.
type SingleValue interface {
	// SingleValue reports whether a second TXT value at a name replaces
	// the first.
	SingleValue() bool
}

// IsSingleValue reports whether p implements SingleValue and says true.
func IsSingleValue(p Provider) bool {
	s, ok := p.(SingleValue)
	return ok && s.SingleValue()
}

// Sequential reports whether names sharing a TXT owner must be validated one
// after the other at e: the entry is configured so (--sequential,
// single_value in the config) or its provider says so (SingleValue).
func (e *Entry) Sequential() bool {
	return e != nil && (e.SingleValue || IsSingleValue(e.Provider))
}
