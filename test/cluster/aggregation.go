package cluster

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// WaitAggregated waits until the aggregation controller has nothing left to
// write: every aggregated ClusterRole the API server stores holds exactly the
// rules of the ClusterRoles its selectors match (itself excepted). When they
// match none, the controller applies no rules at all, so rules written by
// someone else stay (and grant) until the controller has once owned the field.
// It polls the stored objects, and when ctx ends it says which roles differ.
func (c *Cluster) WaitAggregated(ctx context.Context) error {
	var pending []string
	var err error
	for {
		var p []string
		if p, err = c.unaggregated(ctx); err == nil {
			if len(p) == 0 {
				return nil
			}
			pending = p
		}
		select {
		case <-ctx.Done():
			if pending == nil {
				return fmt.Errorf("list the aggregated ClusterRoles: %w", err)
			}
			return fmt.Errorf("aggregated ClusterRoles still without the union of the roles they select: %s", strings.Join(pending, "; "))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// unaggregated lists the aggregated ClusterRoles whose stored rules are not
// the union of their sources' stored rules, each with what differs.
func (c *Cluster) unaggregated(ctx context.Context) ([]string, error) {
	list, err := c.Client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var pending []string
	for i := range list.Items {
		agg := &list.Items[i]
		if agg.AggregationRule == nil {
			continue
		}
		want, err := AggregatedRules(agg, list.Items)
		if err != nil {
			return nil, fmt.Errorf("ClusterRole %s: %w", agg.Name, err)
		}
		if len(want) == 0 && !controllerOwnsRules(agg) {
			continue
		}
		missing, extra := 0, 0
		for _, r := range want {
			if !hasRule(agg.Rules, r) {
				missing++
			}
		}
		for _, r := range agg.Rules {
			if !hasRule(want, r) {
				extra++
			}
		}
		if missing+extra > 0 {
			pending = append(pending, fmt.Sprintf("%s lacks %d of the %d rules it selects and has %d others", agg.Name, missing, len(want), extra))
		}
	}
	return pending, nil
}

// AggregatedRules is what the aggregation controller writes into agg: the
// rules of every ClusterRole of roles that one of agg's selectors matches,
// agg excepted, each once.
func AggregatedRules(agg *rbacv1.ClusterRole, roles []rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	out := []rbacv1.PolicyRule{}
	for i := range agg.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&agg.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			if r.Name == agg.Name || !sel.Matches(labels.Set(r.Labels)) {
				continue
			}
			for _, rule := range r.Rules {
				if !hasRule(out, rule) {
					out = append(out, rule)
				}
			}
		}
	}
	return out, nil
}

// aggregationManager is the field manager of the aggregation controller's applies.
const aggregationManager = "clusterrole-aggregation-controller"

func controllerOwnsRules(cr *rbacv1.ClusterRole) bool {
	for _, mf := range cr.ManagedFields {
		if mf.Manager == aggregationManager && mf.FieldsV1 != nil && bytes.Contains(mf.FieldsV1.Raw, []byte(`"f:rules"`)) {
			return true
		}
	}
	return false
}

func hasRule(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	return slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(x, r) })
}
