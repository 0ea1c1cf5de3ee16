package cmd

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
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
	reason := checks.MissingReason(inv, kinds)
	if reason == "" {
		return nil
	}
	hint := ""
	if inv.Offline {
		hint = " (give them with -f, or say the cluster has none with --assume-absent=KIND or --complete)"
	}
	return fmt.Errorf("%s%s: %s", reason, hint, why)
}
