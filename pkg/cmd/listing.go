package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// validateListOutput accepts the -o values of the commands that print a list
// of their own (checks, who-can, can-reach) rather than a Report.
func validateListOutput(command, format string) error {
	switch format {
	case "table", "wide", "json", "yaml", "":
		return nil
	}
	return fmt.Errorf("kubectl harden %s prints table, wide, json or yaml, not %q", command, format)
}

// printList writes v as JSON or YAML when the format asks for it, and reports
// whether it did; the caller prints its table otherwise.
func printList(w io.Writer, format, what string, v any) (bool, error) {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		if err := enc.Encode(v); err != nil {
			return true, fmt.Errorf("write %s: %w", what, err)
		}
		return true, nil
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return true, fmt.Errorf("encode %s: %w", what, err)
		}
		if _, err := w.Write(b); err != nil {
			return true, fmt.Errorf("write %s: %w", what, err)
		}
		return true, nil
	}
	return false, nil
}

// requireKinds fails when one of the kinds could not be read: commands that
// answer a question (who-can, can-reach) cannot answer it from part of the cluster.
func requireKinds(inv *inventory.Inventory, kinds []inventory.Kind, why string) error {
	var missing []string
	for _, k := range kinds {
		if reason, ok := inv.Missing[k]; ok {
			missing = append(missing, fmt.Sprintf("%s (%s)", k, reason))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("cannot list %s: %s", strings.Join(missing, ", "), why)
}
