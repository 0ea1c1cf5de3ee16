package cmd

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/apply"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// policyReportSelector selects the report objects the plugin wrote, to find stale ones.
const policyReportSelector = "app.kubernetes.io/managed-by=" + output.PolicyReportSource

// validateWritePolicyReports checks --write-policyreports against the other flags.
func (o *AuditOptions) validateWritePolicyReports() error {
	if !o.WritePolicyReports {
		return nil
	}
	switch {
	case o.Output != "policyreport":
		return fmt.Errorf("--write-policyreports writes the objects of -o policyreport: add -o policyreport")
	case len(o.Filenames) > 0:
		return fmt.Errorf("--write-policyreports writes to the audited cluster, and -f audits files: pipe -o policyreport to kubectl apply instead")
	case o.Fleet():
		return fmt.Errorf("--write-policyreports writes to one cluster: run it per context (or in each cluster, see 'kubectl harden schedule')")
	}
	return nil
}

// writePolicyReports server-side applies the report's PolicyReport objects to
// the audited cluster and deletes the plugin's reports of the same name this
// run no longer produced, printing a line for each object as kubectl apply does.
func (o *AuditOptions) writePolicyReports(ctx context.Context, p output.PolicyReport, report *finding.Report) error {
	docs, err := p.Objects(report)
	if err != nil {
		return err
	}
	objs := make([]*unstructured.Unstructured, 0, len(docs))
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode policy report: %w", err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			return fmt.Errorf("encode policy report: %w", err)
		}
		objs = append(objs, u)
	}
	cfg, err := o.RESTConfig()
	if err != nil {
		return err
	}
	client, err := apply.NewClientForConfig(cfg, o.ErrOut)
	if err != nil {
		return err
	}
	lines, err := client.Publish(ctx, objs, policyReportSelector, o.Namespace())
	for _, l := range lines {
		fmt.Fprintln(o.Out, l)
	}
	if err != nil {
		return fmt.Errorf("write policy reports (are the wgpolicyk8s.io CRDs installed?): %w", err)
	}
	return nil
}
