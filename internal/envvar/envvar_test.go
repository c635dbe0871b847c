package envvar

import (
	"strings"
	"testing"
	"time"
)

func vars(kv ...string) Lookup {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDurationAndSeconds(t *testing.T) {
	if d, err := vars("D", "90").Duration("D", false); err != nil || d != 90*time.Second {
		t.Errorf("90: %v, %v", d, err)
	}
	if d, err := vars("D", "2m").Duration("D", false); err != nil || d != 2*time.Minute {
		t.Errorf("2m: %v, %v", d, err)
	}
	if _, err := vars("D", "0").Duration("D", false); err == nil {
		t.Error("0 accepted where zero is not")
	}
	if _, err := vars("D", "-1s").Duration("D", true); err == nil {
		t.Error("negative accepted")
	}
	if n, err := vars("S", "3600").Seconds("S", 60, 86400); err != nil || n != 3600 {
		t.Errorf("3600: %v, %v", n, err)
	}
	if _, err := vars("S", "30").Seconds("S", 60, 86400); err == nil || !strings.Contains(err.Error(), "between 60 and 86400") {
		t.Errorf("30: %v", err)
	}
}
