package output

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// The wg-policy report API (wgpolicyk8s.io/v1alpha2), which Kyverno, trivy-operator
// and Policy Reporter read and write. Its CRDs are not part of Kubernetes: the
// README says where they come from.
const (
	PolicyReportAPIVersion = "wgpolicyk8s.io/v1alpha2"
	// PolicyReportSource is the engine named in each result, and the managed-by label.
	PolicyReportSource = "kubectl-harden"
	// PolicyReportName is the name of every report object; a domain audit appends its domain.
	PolicyReportName = "kubectl-harden"
)

// PolicyReport prints a report as wg-policy PolicyReport objects, one per
// namespace holding the findings about objects in it (and about the
// namespace itself), and one ClusterPolicyReport with the findings about
// cluster-scoped objects and the cluster, the skipped checks (result skip)
// and the checks that ran and found nothing (result pass). The stream is
// multi-document YAML for `kubectl apply -f -`: applying it again replaces
// the results, since the objects' names are fixed.
type PolicyReport struct {
	// Name is the objects' name; PolicyReportName when empty.
	Name string
	// Rules describes the checks, for the severity and category of the
	// skipped and passed checks; nil leaves those fields empty.
	Rules func(r *finding.Report) ([]Rule, error)
}

// policyReport is a PolicyReport or ClusterPolicyReport object.
type policyReport struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   policyReportMeta   `json:"metadata"`
	Summary    policyReportCounts `json:"summary"`
	Results    []policyResult     `json:"results"`
}

type policyReportMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type policyReportCounts struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

type policyResult struct {
	Source     string            `json:"source"`
	Policy     string            `json:"policy"`
	Rule       string            `json:"rule,omitempty"`
	Category   string            `json:"category,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	Timestamp  policyTimestamp   `json:"timestamp"`
	Result     string            `json:"result"`
	Scored     bool              `json:"scored"`
	Message    string            `json:"message,omitempty"`
	Resources  []objectReference `json:"resources,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type policyTimestamp struct {
	Seconds int64 `json:"seconds"`
	Nanos   int32 `json:"nanos"`
}

type objectReference struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
}

// The results a finding or a check becomes.
const (
	resultPass = "pass"
	resultFail = "fail"
	resultWarn = "warn"
	resultSkip = "skip"
)

// Print writes the ClusterPolicyReport, then one PolicyReport per namespace in name order.
func (p PolicyReport) Print(r *finding.Report, w io.Writer) error {
	docs, err := p.Objects(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for i, d := range docs {
		b, err := yaml.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode policy report: %w", err)
		}
		if i > 0 {
			bw.WriteString("---\n")
		}
		bw.Write(b)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write policy reports: %w", err)
	}
	return nil
}

// Objects returns the report objects: the ClusterPolicyReport first, then the
// namespaces' PolicyReports sorted by namespace.
func (p PolicyReport) Objects(r *finding.Report) ([]any, error) {
	rules := map[string]Rule{}
	if p.Rules != nil {
		list, err := p.Rules(r)
		if err != nil {
			return nil, fmt.Errorf("describe checks for policy reports: %w", err)
		}
		for _, ru := range list {
			rules[ru.ID] = ru
		}
	}
	name := p.Name
	if name == "" {
		name = PolicyReportName
	}
	ts := policyTimestamp{Seconds: r.Metadata.GeneratedAt.Unix(), Nanos: int32(r.Metadata.GeneratedAt.Nanosecond())}
	newReport := func(kind, ns string) *policyReport {
		labels := map[string]string{"app.kubernetes.io/managed-by": PolicyReportSource}
		var ann map[string]string
		if c := r.Metadata.Context; c != "" {
			ann = map[string]string{"kubectl-harden.io/context": c}
		}
		return &policyReport{APIVersion: PolicyReportAPIVersion, Kind: kind,
			Metadata: policyReportMeta{Name: name, Namespace: ns, Labels: labels, Annotations: ann}, Results: []policyResult{}}
	}
	cluster := newReport("ClusterPolicyReport", "")
	byNS := map[string]*policyReport{}
	for _, f := range r.Items {
		res := findingResult(f, ts)
		target := cluster
		if ns := reportNamespace(f.Resource); ns != "" {
			if byNS[ns] == nil {
				byNS[ns] = newReport("PolicyReport", ns)
			}
			target = byNS[ns]
		}
		target.add(res)
	}
	checkResult := func(id, result, message string) policyResult {
		res := policyResult{Source: PolicyReportSource, Policy: id, Rule: ruleName(id), Category: domainOf(id),
			Timestamp: ts, Result: result, Scored: true, Message: message}
		if ru, ok := rules[id]; ok {
			res.Severity = ru.Severity.String()
			res.Properties = controlProperties(ru.Controls, ru.Title)
			if res.Message == "" {
				res.Message = ru.Title
			}
		}
		return res
	}
	for _, c := range r.Ran {
		if c.Findings == 0 {
			cluster.add(checkResult(c.ID, resultPass, ""))
		}
	}
	for _, s := range r.Summary.Skipped {
		cluster.add(checkResult(s.Check, resultSkip, "skipped: "+s.Reason))
	}
	for _, s := range r.Summary.NotApplicable {
		cluster.add(checkResult(s.Check, resultSkip, "not applicable: "+s.Reason))
	}
	out := []any{cluster}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		out = append(out, byNS[ns])
	}
	return out, nil
}

func (p *policyReport) add(res policyResult) {
	p.Results = append(p.Results, res)
	switch res.Result {
	case resultPass:
		p.Summary.Pass++
	case resultFail:
		p.Summary.Fail++
	case resultWarn:
		p.Summary.Warn++
	case resultSkip:
		p.Summary.Skip++
	}
}

// reportNamespace is the namespace whose PolicyReport holds a finding about
// the resource: its own, or the namespace it is; "" for cluster-scoped objects.
func reportNamespace(r finding.Resource) string {
	if r.Namespace != "" {
		return r.Namespace
	}
	if r.Kind == "Namespace" && r.APIVersion == "v1" {
		return r.Name
	}
	return ""
}

// findingResult is one finding as a result: fail, or warn for info findings,
// which state a fact and do not lower the score (scored false).
func findingResult(f finding.Finding, ts policyTimestamp) policyResult {
	res := policyResult{Source: PolicyReportSource, Policy: f.Check, Rule: ruleName(f.Check), Category: domainOf(f.Check),
		Severity: f.Severity.String(), Timestamp: ts, Result: resultFail, Scored: true, Message: f.Message,
		Properties: controlProperties(f.Controls, f.Title)}
	if f.Severity <= finding.Info {
		res.Result, res.Scored = resultWarn, false
	}
	if f.Resource.Kind != finding.ClusterKind {
		res.Resources = []objectReference{{APIVersion: f.Resource.APIVersion, Kind: f.Resource.Kind, Namespace: f.Resource.Namespace, Name: f.Resource.Name}}
	}
	if f.Subject != nil {
		res.Properties["subject"] = f.Subject.String()
	}
	if f.Remediation != nil && f.Remediation.Summary != "" {
		res.Properties["remediation"] = f.Remediation.Summary
	}
	if f.Source != nil {
		src := f.Source.File
		if f.Source.Line > 0 {
			src += fmt.Sprintf(":%d", f.Source.Line)
		}
		res.Properties["file"] = src
	}
	return res
}

// controlProperties are the result's properties every result carries: the title and the controls.
func controlProperties(controls []finding.Control, title string) map[string]string {
	props := map[string]string{}
	if title != "" {
		props["title"] = title
	}
	if len(controls) > 0 {
		cs := make([]string, len(controls))
		for i, c := range controls {
			cs[i] = string(c)
		}
		props["controls"] = strings.Join(cs, ",")
	}
	return props
}

// ruleName is the part of a check ID after its domain: rbac/cluster-admin-binding -> cluster-admin-binding.
func ruleName(id string) string {
	_, rest, ok := strings.Cut(id, "/")
	if !ok {
		return id
	}
	return rest
}

func domainOf(id string) string {
	d, _, _ := strings.Cut(id, "/")
	return d
}
