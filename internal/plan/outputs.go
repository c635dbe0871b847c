package plan

import (
	"encoding/json"
	"fmt"

	"github.com/strictacme/strictacme/internal/deploy"
	"github.com/strictacme/strictacme/internal/renewal"
	"github.com/strictacme/strictacme/internal/store"
)

// RecordConfiguredOutputs stores the deploy outputs of the config file's
// settings (configured, by certificate name) with each stored certificate
// that is not ordered in this run (order; an ordered one is stored with
// all its settings), so that renew without the file keeps what the file
// now says. Failures are logged; the run goes on.
func RecordConfiguredOutputs(st *store.Store, configured map[string]Settings, order map[string]renewal.OrderReason, logf func(string)) {
	for name, s := range configured {
		if _, ordered := order[name]; ordered {
			continue
		}
		c, err := st.LoadCertificate(name)
		if err != nil {
			continue
		}
		m, changed, err := RecordOutputs(c.Meta, s.Outputs)
		if err == nil && changed {
			err = st.SaveMetadata(name, m)
		}
		if err != nil {
			logf(fmt.Sprintf("%s: recording its deploy outputs for renew: %v", name, err))
		}
	}
}

// RecordOutputs returns m with the deploy outputs of its stored settings
// replaced by o (paths made absolute), and whether that changed anything.
// run calls it for certificates it does not order, so that renew, run
// without the config file, keeps the outputs the file now gives instead of
// writing the old ones back. Metadata without settings is left alone
// (recorded whole elsewhere).
func RecordOutputs(m store.Metadata, o deploy.Outputs) (store.Metadata, bool, error) {
	s, ok, err := FromMetadata(m)
	if err != nil || !ok || len(m.Settings) == 0 {
		return m, false, err
	}
	o = o.Abs()
	if s.Outputs == o {
		return m, false, nil
	}
	// Edit the stored object itself: FromMetadata fills in fields from the
	// certificate's own record, which are not to be written back.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(m.Settings, &raw); err != nil {
		return m, false, err
	}
	enc, err := json.Marshal(o)
	if err != nil {
		return m, false, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(enc, &fields); err != nil {
		return m, false, err
	}
	for _, k := range deploy.Keys() {
		delete(raw, k)
	}
	for k, v := range fields {
		raw[k] = v
	}
	if m.Settings, err = json.Marshal(raw); err != nil {
		return m, false, err
	}
	if m.SettingsVersion == 0 {
		m.SettingsVersion = s.Version()
	}
	return m, true, nil
}
