package e2e

import (
	"strings"
	"testing"
)

func TestVersionThroughKubectl(t *testing.T) {
	res := mustHarden(t, "version")
	if !strings.HasPrefix(res.Stdout, "kubectl-harden ") {
		t.Fatalf("version output %q", res.Stdout)
	}
}
