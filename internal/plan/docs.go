package plan

import (
	"fmt"
	"strings"
)

// ProviderTable is the Markdown table of the provider kinds and their
// settings, as docs/config.md shows it.
func ProviderTable() string {
	var b strings.Builder
	b.WriteString("| type | config key | environment variable | flag | meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, k := range ProviderKinds() {
		for _, key := range k.Keys {
			cfg := fmt.Sprintf("`%s`, `%s_env`, `%s_file`", key.Name, key.Name, key.Name)
			env := "`" + key.Env + "`"
			if key.Secret {
				cfg = fmt.Sprintf("`%s_env`, `%s_file` (secret)", key.Name, key.Name)
				env = fmt.Sprintf("`%s`, `%s_FILE`", key.Env, key.Env)
			}
			flag := ""
			if key.Flag != "" {
				flag = "`--" + key.Flag + "`"
			}
			help := key.Help
			if key.Required {
				help += " (required)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, cfg, env, flag, strings.ReplaceAll(help, "|", "\\|"))
		}
	}
	return b.String()
}

// KindTable is the Markdown table of what each provider kind does, as
// docs/config.md shows it.
func KindTable() string {
	var b strings.Builder
	b.WriteString("| type | zone from | writes | delete | read-back | serving lag |\n| --- | --- | --- | --- | --- | --- |\n")
	cell := func(s string) string {
		if s == "" {
			return "—"
		}
		return strings.ReplaceAll(s, "|", "\\|")
	}
	for _, k := range ProviderKinds() {
		t := k.Traits
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", k.Name, cell(t.Zones), cell(t.Writes), cell(t.Delete), cell(t.ReadBack), cell(t.Lag))
	}
	return b.String()
}

// StrategyTable is the Markdown table of the propagation strategies.
func StrategyTable() string {
	var b strings.Builder
	b.WriteString("| propagation | what it does |\n| --- | --- |\n")
	for _, s := range strategies {
		fmt.Fprintf(&b, "| `%s` | %s |\n", s.Name, s.Help)
	}
	return b.String()
}
