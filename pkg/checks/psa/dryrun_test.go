package psa

import (
	"errors"
	"strings"
	"testing"
)

// Each proposal is asked about as it would be applied and at its target
// level; the answers are recorded with the prediction, and a disagreement or
// a failed request is a warning, never silently dropped.
func TestConfirmWithServer(t *testing.T) {
	a := Analyze(load(t, "unlabelled.yaml", ""))
	var asked []string
	agreeing := ""
	ask := func(ns string, labels map[string]string) ([]string, error) {
		asked = append(asked, ns+":"+labels[EnforceLabel])
		switch {
		case agreeing == "":
			agreeing = ns
			fallthrough
		case ns == agreeing:
			return a.PredictLabelChange(ns, labels), nil
		case len(asked)%2 == 0:
			return nil, errors.New("namespaces \"" + ns + "\" is forbidden")
		}
		return []string{"a warning the prediction lacks"}, nil
	}
	warnings := a.ConfirmWithServer(ask, false)
	if len(asked) < 2 {
		t.Fatalf("asked only %v", asked)
	}
	recorded, agree, failed := 0, 0, 0
	for _, n := range a.Namespaces {
		for _, sc := range n.DryRun {
			recorded++
			if sc.Agree {
				agree++
			}
			if sc.Error != "" {
				failed++
			}
			if n.System {
				t.Errorf("system namespace %s asked about", n.Name)
			}
		}
	}
	if recorded != len(asked) || agree == 0 || len(warnings) != recorded-agree {
		t.Errorf("asked %d, recorded %d, agreeing %d, failed %d, warnings %d:\n%s", len(asked), recorded, agree, failed, len(warnings), strings.Join(warnings, "\n"))
	}
}
