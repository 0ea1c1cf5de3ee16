// Package checktest has what the tests of the domain packages and the
// printers share: loading YAML fixtures from a package's testdata, running
// one check as a real run does, golden files (rewritten with -update), and
// short forms of findings to compare.
package checktest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// update is -update: golden files are rewritten from what the test got.
var update = flag.Bool("update", false, "rewrite the golden files from the output of the tests")

// Golden compares got with the golden file at path (under the package's
// directory); with -update it writes got there first.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// LoadVersion is Load as an offline run with --server-version would read it.
func LoadVersion(t testing.TB, serverVersion string, files ...string) *inventory.Inventory {
	t.Helper()
	inv := Load(t, files...)
	inv.ServerVersion = serverVersion
	return inv
}

// Key is a finding in short: "check Kind/namespace/name".
func Key(f finding.Finding) string {
	return f.Check + " " + f.Resource.Kind + "/" + f.Resource.Namespace + "/" + f.Resource.Name
}

// Messages returns the findings' messages, sorted.
func Messages(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Message
	}
	slices.Sort(out)
	return out
}

// Load reads fixtures (files or directories under testdata/) into an offline inventory.
func Load(t testing.TB, files ...string) *inventory.Inventory {
	t.Helper()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join("testdata", f)
	}
	inv, err := inventory.FromFiles(paths, nil)
	if err != nil {
		t.Fatalf("load %v: %v", files, err)
	}
	return inv
}

// Run runs the check with the ID from cs through checks.Run, so the registry
// fills the findings exactly as in an audit.
func Run(t testing.TB, inv *inventory.Inventory, cs []checks.Check, id string) []finding.Finding {
	t.Helper()
	for _, c := range cs {
		if c.ID == id {
			res := checks.Run(inv, []checks.Check{c})
			if len(res.Skipped) > 0 {
				t.Fatalf("%s skipped: %s", id, res.Skipped[0].Reason)
			}
			return res.Findings
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

// JSON is v as encoding/json writes it, to compare values by their JSON.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
