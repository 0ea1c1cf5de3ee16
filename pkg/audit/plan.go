package audit

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Plan keeps an audit current while a fix session changes the cluster: it
// holds the audit's inventory, updates it with each change as the server
// stored it, and re-runs the checks that read the changed kind, with the
// audit's own selection (domains, --check, -n, --severity). It implements
// the fix session's Planner.
type Plan struct {
	inv      *inventory.Inventory
	selected []checks.Check
	cfg      Config
}

// NewPlan returns the plan of an audit made with cfg over inv (as Run returned them).
func NewPlan(reg *checks.Registry, inv *inventory.Inventory, cfg Config) (*Plan, error) {
	sel := cfg.Select
	sel.MinSeverity = 0
	selected, err := reg.Select(cfg.Domains, sel)
	if err != nil {
		return nil, err
	}
	return &Plan{inv: inv, selected: selected, cfg: cfg}, nil
}

// Affected returns the selected checks that read the kind of the target.
func (p *Plan) Affected(t remedy.Target) []checks.Check {
	k, ok := inventory.KindOf(t.APIVersion, t.Kind)
	if !ok {
		return nil
	}
	var out []checks.Check
	for _, c := range p.selected {
		if slices.Contains(c.Needs, k) {
			out = append(out, c)
		}
	}
	return out
}

// Applied records the target as the server stored it (nil: it is gone) and
// re-runs the checks that read its kind; it returns their IDs and findings.
func (p *Plan) Applied(t remedy.Target, stored *unstructured.Unstructured) ([]string, []finding.Finding, error) {
	affected := p.Affected(t)
	if len(affected) == 0 {
		return nil, nil, nil
	}
	if stored != nil {
		if err := p.inv.Put(stored); err != nil {
			return nil, nil, fmt.Errorf("update the inventory with %s: %w", t, err)
		}
	} else {
		p.inv.Remove(t.APIVersion, t.Kind, t.Namespace, t.Name)
	}
	res := checks.Run(p.inv, affected)
	items := res.Findings
	if p.cfg.Namespace != "" {
		items = inNamespace(items, p.cfg.Namespace)
	}
	items = finding.Shown(items, p.cfg.MinSeverity)
	ids := make([]string, 0, len(res.Ran))
	for _, r := range res.Ran {
		ids = append(ids, r.ID)
	}
	return ids, items, nil
}

// Impact says what a change may break, judged on the object as the server
// would store it (proposed; nil for a delete) against the inventory as it is.
func (p *Plan) Impact(t remedy.Target, proposed *unstructured.Unstructured) ([]string, bool) {
	after := p.inv.Clone()
	if proposed != nil {
		if err := after.Put(proposed); err != nil {
			return nil, false
		}
	} else {
		after.Remove(t.APIVersion, t.Kind, t.Namespace, t.Name)
	}
	return all.Impact(p.inv, after, t.Kind, t.Namespace, t.Name)
}
