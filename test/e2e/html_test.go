package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

// TestHTMLReportInHeadlessChromium renders the demo cluster's `-o html`
// report in Debian's chromium, started by the test through the DevTools
// protocol, and checks what a reader relies on: no console error and no
// network request (the page is one file), the demo's escalation path drawn as
// graph nodes, and the severity filter changing the visible rows. The page
// and a screenshot are saved in the test's artifact directory
// (go test -artifacts -outputdir DIR keeps them).
func TestHTMLReportInHeadlessChromium(t *testing.T) {
	browser := debianTool(t, "chromium", "chromium", "chromium-driver")

	var report finding.Report
	if err := json.Unmarshal([]byte(mustHarden(t, "-o", "json").Stdout), &report); err != nil {
		t.Fatal(err)
	}
	critical := report.Summary.Critical
	page := mustHarden(t, "-o", "html").Stdout
	dir := t.ArtifactDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	pageURL := "file://" + file

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	var mu sync.Mutex
	var problems, requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text+" "+exceptionText(e.ExceptionDetails))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if e.Request.URL != pageURL {
				requests = append(requests, e.Request.URL)
			}
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step, stepCancel := context.WithTimeout(ctx, 90*time.Second)
	defer stepCancel()
	if _, err := chromedp.Call(step, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(step, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(step, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(step, chromedp.Navigate(pageURL), chromedp.WaitReady("section.cluster")); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	eval := func(js string, out any) {
		t.Helper()
		v, err := chromedp.Run(step, chromedp.Evaluate[json.RawMessage](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		if err := json.Unmarshal(v, out); err != nil {
			t.Fatalf("evaluate %s: %v (%s)", js, err, v)
		}
	}

	// The demo's path: User dev@example.com -> create pods in namespace ci -> ServiceAccount ci/deployer -> cluster-admin.
	var nodes []string
	eval(`Array.from(document.querySelectorAll("svg.escalation g.node")).filter(g => g.getBBox().width > 0).map(g => g.dataset.label)`, &nodes)
	for _, want := range []string{"User dev@example.com", "create pods in namespace ci", "ServiceAccount ci/deployer", "cluster-admin"} {
		if !slices.Contains(nodes, want) {
			t.Errorf("the escalation graph has no node %q: %q", want, nodes)
		}
	}
	var edges int
	eval(`document.querySelectorAll("svg.escalation path.edge").length`, &edges)
	if edges < 3 {
		t.Errorf("the escalation graph has %d edges, want at least 3", edges)
	}

	// Rows a person sees: laid out, not hidden.
	const visible = `Array.from(document.querySelectorAll("table.findings tbody.finding")).filter(b => b.getClientRects().length > 0).map(b => b.dataset.severity)`
	var before, after []string
	eval(visible, &before)
	if len(before) != len(report.Items) {
		t.Errorf("%d rows visible before filtering, want every finding (%d)", len(before), len(report.Items))
	}
	eval(`(() => { const s = document.querySelector(".f-severity"); s.value = "critical"; s.dispatchEvent(new Event("change")); return true })()`, new(bool))
	eval(visible, &after)
	if len(after) != critical || len(after) == len(before) {
		t.Errorf("severity critical shows %d rows (of %d), want the %d critical findings", len(after), len(before), critical)
	}
	for _, s := range after {
		if s != "critical" {
			t.Errorf("a %s row is visible with severity critical selected", s)
		}
	}
	var counter string
	eval(`document.querySelector(".n-shown").textContent`, &counter)
	if counter != fmt.Sprint(critical) {
		t.Errorf("the counter says %q shown, want %d", counter, critical)
	}
	// Back to every severity for the screenshot; open the first finding's details.
	eval(`(() => { const s = document.querySelector(".f-severity"); s.value = ""; s.dispatchEvent(new Event("change")); document.querySelector("tbody.finding tr.row").click(); return true })()`, new(bool))
	var details bool
	eval(`document.querySelector("tbody.finding tr.detail").getClientRects().length > 0`, &details)
	if !details {
		t.Error("clicking a finding did not show its evidence and remediation")
	}

	// The reachability matrix and the tables of the domains are there.
	var sections []string
	eval(`Array.from(document.querySelectorAll("section.cluster h3")).map(h => h.textContent)`, &sections)
	for _, want := range []string{"Score per domain", "Findings", "RBAC escalation paths", "NetworkPolicy reachability between namespaces", "Pod Security per namespace"} {
		if !slices.ContainsFunc(sections, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no section %q: %q", want, sections)
		}
	}

	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(dir, "report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("report and screenshot: %s, %s", file, shot)

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(problems, "\n"))
	}
	if len(requests) > 0 {
		t.Errorf("the page made network requests: %q", requests)
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}
