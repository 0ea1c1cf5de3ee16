package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-harden/kubectl-harden/pkg/audit"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/output"
)

// fleetParallel bounds how many clusters are audited at once: each audit
// already lists its kinds in parallel, so more clusters at a time would only
// multiply open connections and memory without finishing sooner.
const fleetParallel = 4

// addFleetFlags registers --contexts and --all-contexts.
func (o *AuditOptions) addFleetFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Contexts, "contexts", nil, "Audit each of these kubeconfig contexts, in parallel, with one report per cluster. Repeatable")
	fs.BoolVar(&o.AllContexts, "all-contexts", false, "Audit every context of the kubeconfig, in parallel, with one report per cluster")
	_ = cmd.RegisterFlagCompletionFunc("contexts", o.completeKubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.Contexts)) }))
}

// Fleet says whether the run audits several clusters (--contexts or --all-contexts).
func (o *AuditOptions) Fleet() bool { return len(o.Contexts) > 0 || o.AllContexts }

// rejectFleetOutsideAudits is the root's PersistentPreRunE: only the audit
// commands (the root and its domain commands) run per context. fix, undo,
// who-can and can-reach act on or answer for one cluster, so silently picking
// one of the contexts would be wrong.
func (o *AuditOptions) rejectFleetOutsideAudits(cmd *cobra.Command, _ []string) error {
	if !o.Fleet() {
		return nil
	}
	root := cmd.Root()
	if cmd == root {
		return nil
	}
	if cmd.Parent() == root {
		reg, err := o.Registry()
		if err != nil {
			return err
		}
		if slices.Contains(reg.Domains(), cmd.Name()) {
			return nil
		}
	}
	return fmt.Errorf("'%s' does not audit several clusters: --contexts and --all-contexts apply to 'kubectl harden' and its domain commands; choose one cluster with --context",
		cmd.CommandPath())
}

// validateFleet refuses flags that name a single cluster or no cluster at all.
func (o *AuditOptions) validateFleet() error {
	switch {
	case len(o.Contexts) > 0 && o.AllContexts:
		return fmt.Errorf("--contexts and --all-contexts cannot be combined: --all-contexts already audits every context")
	case len(o.Filenames) > 0:
		return fmt.Errorf("-f audits manifests, --contexts and --all-contexts audit clusters: use one or the other")
	case o.Baseline != "":
		return fmt.Errorf("--baseline is the report of one cluster and cannot be compared with several: audit each context with --context and its own baseline")
	}
	for flag, v := range map[string]*string{"--context": o.ConfigFlags.Context, "--cluster": o.ConfigFlags.ClusterName, "--server": o.ConfigFlags.APIServer} {
		if v != nil && *v != "" {
			return fmt.Errorf("%s names one cluster and cannot be combined with --contexts or --all-contexts: list the contexts in --contexts", flag)
		}
	}
	return nil
}

// fleetContexts returns the contexts to audit: those --contexts names, in
// order and each once, or every context of the kubeconfig, sorted.
func (o *AuditOptions) fleetContexts() ([]string, error) {
	raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	if o.AllContexts {
		names := slices.Sorted(maps.Keys(raw.Contexts))
		if len(names) == 0 {
			return nil, fmt.Errorf("--all-contexts: the kubeconfig has no contexts")
		}
		return names, nil
	}
	var names, unknown []string
	for _, name := range o.Contexts {
		if slices.Contains(names, name) {
			continue
		}
		if _, ok := raw.Contexts[name]; !ok {
			unknown = append(unknown, strconv.Quote(name))
		}
		names = append(names, name)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--contexts: no context %s in the kubeconfig (it has: %s)",
			strings.Join(unknown, ", "), strings.Join(slices.Sorted(maps.Keys(raw.Contexts)), ", "))
	}
	return names, nil
}

// contextConfigFlags returns fresh ConfigFlags for one context. It shares the
// values of the flags given on the command line (the fields are pointers to
// them) but not the clients and caches a ConfigFlags builds, which belong to
// one cluster.
func contextConfigFlags(f *genericclioptions.ConfigFlags, context string) *genericclioptions.ConfigFlags {
	c := genericclioptions.NewConfigFlags(true)
	c.CacheDir, c.KubeConfig = f.CacheDir, f.KubeConfig
	c.ClusterName, c.AuthInfoName, c.Namespace, c.APIServer, c.TLSServerName = f.ClusterName, f.AuthInfoName, f.Namespace, f.APIServer, f.TLSServerName
	c.Insecure, c.CertFile, c.KeyFile, c.CAFile, c.BearerToken = f.Insecure, f.CertFile, f.KeyFile, f.CAFile, f.BearerToken
	c.Impersonate, c.ImpersonateUID, c.ImpersonateGroup, c.ImpersonateUserExtra = f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup, f.ImpersonateUserExtra
	c.Username, c.Password, c.Timeout, c.DisableCompression, c.ProxyURL = f.Username, f.Password, f.Timeout, f.DisableCompression, f.ProxyURL
	c.WrapConfigFn = f.WrapConfigFn
	c.Context = &context
	return c
}

// clusterAudit is the outcome of auditing one context.
type clusterAudit struct {
	Context string
	Report  *finding.Report
	Err     error
	// Stderr holds what the audit said on stderr (skipped kinds), printed
	// after all audits end so lines of parallel audits do not interleave.
	Stderr lockedBuffer
}

// lockedBuffer is a bytes.Buffer an audit's goroutines may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RunFleet audits each context in parallel and prints one report per
// cluster. A context that fails gets one error line on stderr and the others
// still print; the exit status is then 1, else 2 when --fail-on is met.
func (o *AuditOptions) RunFleet(cmd *cobra.Command, domains []string) error {
	if err := o.validateFleet(); err != nil {
		return err
	}
	contexts, err := o.fleetContexts()
	if err != nil {
		return err
	}
	printReports, err := o.fleetPrinter(domains, len(contexts))
	if err != nil {
		return err
	}

	audits := make([]*clusterAudit, len(contexts))
	sem := make(chan struct{}, fleetParallel)
	var wg sync.WaitGroup
	for i, name := range contexts {
		a := &clusterAudit{Context: name}
		audits[i] = a
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c := *o
			c.ConfigFlags = contextConfigFlags(o.ConfigFlags, name)
			c.IOStreams = genericiooptions.IOStreams{In: o.In, Out: io.Discard, ErrOut: &a.Stderr}
			c.Contexts, c.AllContexts = nil, false
			a.Report, a.Err = c.Report(cmd.Context(), domains)
		}()
	}
	wg.Wait()

	var reports []*finding.Report
	failed := 0
	for _, a := range audits {
		writeContextLines(o.ErrOut, a.Context, a.Stderr.String())
		if a.Err != nil {
			failed++
			fmt.Fprintf(o.ErrOut, "error: context %s: %s\n", a.Context, strings.Join(strings.Fields(a.Err.Error()), " "))
			continue
		}
		reports = append(reports, a.Report)
	}
	if err := printReports(reports, o.Out); err != nil {
		return err
	}
	if failed > 0 {
		// Each failure is already on stderr, one line per context.
		return &ExitError{Code: 1}
	}
	// The worst outcome of any cluster decides: findings (2) before skipped checks (3).
	gate, worst, skipped := o.Gate(), audit.Pass, 0
	for _, r := range reports {
		switch out := gate.Judge(r.Summary); {
		case out == audit.Failed:
			worst = audit.Failed
		case out == audit.Incomplete && worst != audit.Failed:
			worst = audit.Incomplete
			skipped += len(r.Summary.Skipped)
		}
	}
	return exitFor(worst, skipped)
}

// writeContextLines copies one audit's stderr, naming its context on each line.
func writeContextLines(w io.Writer, context, text string) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "Warning: "); ok {
			fmt.Fprintf(w, "Warning: context %s: %s\n", context, rest)
			continue
		}
		fmt.Fprintf(w, "context %s: %s\n", context, line)
	}
}

// fleetPrint writes the reports of several clusters.
type fleetPrint func(reports []*finding.Report, w io.Writer) error

// fleetPrinter returns how -o prints several reports: tables one under the
// other with a header naming the context; json, yaml and templates over a
// kubectl List of the reports; names prefixed with the context and a tab.
// SARIF and patch streams have no way to say which cluster a result is from,
// so they take one context only.
func (o *AuditOptions) fleetPrinter(domains []string, contexts int) (fleetPrint, error) {
	// The single-report printer also validates -o.
	single, err := o.Printer(domains)
	if err != nil {
		return nil, err
	}
	switch o.Output {
	case "", "table", "wide":
		return func(reports []*finding.Report, w io.Writer) error {
			for i, r := range reports {
				sep := ""
				if i > 0 {
					sep = "\n"
				}
				if _, err := fmt.Fprintf(w, "%s==> context %s <==\n", sep, r.Metadata.Context); err != nil {
					return err
				}
				if err := single.Print(r, w); err != nil {
					return err
				}
			}
			return nil
		}, nil
	case "json":
		return printListJSON, nil
	case "html":
		// One page, a section per cluster.
		return output.HTML{Version: Version()}.PrintAll, nil
	case "yaml":
		return printListYAML, nil
	case "name":
		return func(reports []*finding.Report, w io.Writer) error {
			for _, r := range reports {
				var buf bytes.Buffer
				if err := single.Print(r, &buf); err != nil {
					return err
				}
				sc := bufio.NewScanner(&buf)
				for sc.Scan() {
					if _, err := fmt.Fprintf(w, "%s\t%s\n", r.Metadata.Context, sc.Text()); err != nil {
						return err
					}
				}
			}
			return nil
		}, nil
	case "sarif", "patch", "policyreport", "dot":
		if contexts > 1 {
			return nil, fmt.Errorf("-o %s prints the results of one cluster and cannot tell clusters apart: audit one context at a time (--context), or use -o json for a List of reports", o.Output)
		}
		return func(reports []*finding.Report, w io.Writer) error {
			for _, r := range reports {
				if err := single.Print(r, w); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
	// jsonpath= and go-template= forms run once over the List, as kubectl does over a list of objects.
	enc, _, err := output.NewEncoder(o.Output)
	if err != nil {
		return nil, err
	}
	return func(reports []*finding.Report, w io.Writer) error { return enc(newReportList(reports), w) }, nil
}

// reportList is a kubectl List of Reports, one per cluster, so scripts read
// it as they read `kubectl get -o json` of several objects.
type reportList struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []*finding.Report `json:"items"`
}

// newReportList is the List document of the reports, each written as -o json writes one (finding.Document).
func newReportList(reports []*finding.Report) reportList {
	docs := make([]*finding.Report, len(reports))
	for i, r := range reports {
		if r != nil {
			docs[i] = finding.Document(r)
		}
	}
	return reportList{APIVersion: "v1", Kind: "List", Items: docs}
}

func printListJSON(reports []*finding.Report, w io.Writer) error {
	return output.WriteJSON(newReportList(reports), w)
}

func printListYAML(reports []*finding.Report, w io.Writer) error {
	return output.WriteYAML(newReportList(reports), w)
}
