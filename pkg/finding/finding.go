// Package finding holds what a check reports: the Finding, its Severity and
// control mappings, and the Report that collects them with a summary and score.
package finding

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// Severity orders findings; a higher value is worse.
type Severity int

// The zero Severity is unset: a check's finding without one takes the check's.
const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
)

// Severities lists every level from the most to the least severe.
var severities = []Severity{Critical, High, Medium, Low, Info}

// Severities returns every level from the most to the least severe.
func Severities() []Severity { return append([]Severity(nil), severities...) }

func (s Severity) String() string {
	switch s {
	case Critical:
		return "critical"
	case High:
		return "high"
	case Medium:
		return "medium"
	case Low:
		return "low"
	case Info:
		return "info"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads a level name as given on the command line.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range severities {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q: use one of critical, high, medium, low, info", s)
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	v, err := ParseSeverity(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Control is one entry of a benchmark or guide a check maps to, written as
// FRAMEWORK-ID, for example CIS-5.1.1, NSA-CISA-RBAC or NIST-800-53-AC-6.
type Control string

// Resource names the object a finding is about.
type Resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// ClusterKind is the Kind of the resource a finding about the cluster as a
// whole (its control plane, its admission chain) is attributed to: no object
// of the API stands for the cluster, and kube-system is not it.
const ClusterKind = "Cluster"

// ClusterResource is the resource of findings about the cluster as a whole.
func ClusterResource() Resource {
	return Resource{APIVersion: "kubectl-harden.io/v1alpha1", Kind: ClusterKind}
}

func (r Resource) String() string {
	if r.Kind == ClusterKind && r.Name == "" {
		return "cluster"
	}
	kind := strings.ToLower(r.Kind)
	if r.Namespace != "" {
		return kind + "/" + r.Namespace + "/" + r.Name
	}
	return kind + "/" + r.Name
}

// Subject names who holds a permission (RBAC findings).
type Subject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (s Subject) String() string {
	if s.Kind == "ServiceAccount" {
		return s.Kind + " " + s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + s.Name
}

// Source is where an object was read from when the input was files.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Finding is one weakness of one object.
type Finding struct {
	Check    string    `json:"check"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	Message  string    `json:"message"`
	Resource Resource  `json:"resource"`
	Subject  *Subject  `json:"subject,omitempty"`
	Controls []Control `json:"controls,omitempty"`
	// Facets name which part of its check a finding is about (the flag of a
	// flags check, hostPID of psa/host-namespaces): the control catalogues
	// (pkg/controls) map a check and facet to the controls of a benchmark version.
	Facets      []string            `json:"-"`
	Evidence    map[string]any      `json:"evidence,omitempty"`
	Remediation *remedy.Remediation `json:"remediation,omitempty"`
	Source      *Source             `json:"source,omitempty"`
	// Accepted is set when an exception accepts the finding: it stays in the
	// report but leaves the failing set, the counts and the score.
	Accepted *Acceptance `json:"accepted,omitempty"`
	// BaselineState is "new" or "unchanged" when the audit was compared with a
	// baseline report (--baseline), "absent" for a finding of the baseline that is gone.
	BaselineState string `json:"baselineState,omitempty"`
	// Covers are the findings of other checks about the same object that
	// this one names in its evidence, written inside it in the report
	// document instead of as items of their own (see Fold).
	Covers []Covered `json:"covers,omitempty"`
	// Alike are the other objects of the same kind this very finding is
	// about, each with its own name where the finding names its object:
	// the report document writes such findings once (see Group).
	Alike []Alike `json:"alike,omitempty"`
	// Summarizes are the checks whose findings about the same object this
	// finding names in its evidence (psa/restricted-blocker lists every
	// violation of a workload): Fold writes them inside it.
	Summarizes []string `json:"-"`
}

// Acceptance is the exception that accepted a finding: who owns the decision,
// why, until when, and where it is written.
type Acceptance struct {
	// By is FILE:LINE of the exceptions file entry, or "annotation" for the
	// kubectl-harden.io/accept annotation of the object.
	By      string `json:"by"`
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
}

// The states of a finding compared with a baseline, as SARIF names them.
const (
	BaselineNew       = "new"
	BaselineUnchanged = "unchanged"
	BaselineAbsent    = "absent"
)

// UnknownFacet is the facet of an info finding that says a part of its check
// could not be judged (a flag whose effect lives in a file the API does not
// show): the controls that part evidences are unknown, never passed.
func UnknownFacet(facet string) string { return "unknown:" + facet }
