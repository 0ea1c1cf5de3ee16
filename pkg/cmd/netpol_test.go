package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
)

const netpolFixture = "../../test/testdata/netpol"

func TestNetpolAuditShowsCoverage(t *testing.T) {
	code, out, errOut := run(t, "", "netpol", "-f", netpolFixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"NetworkPolicy coverage (CNI: unknown)", "DEFAULT-DENY INGRESS", "netpol-data  5         3          2     3 (100%)", "TOTAL", "netpol/namespace-without-policy"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = run(t, "", "netpol", "-f", netpolFixture, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := report(t, out)
	cov, ok, err := finding.CoverageOf[*netpol.Coverage](&r)
	// Workloads count the Deployment and the Job, which run no pod, beside the pods.
	if err != nil || !ok || len(r.Coverage) != 1 || cov.Total.Pods != 6 || cov.Total.Workloads != 8 ||
		cov.Total.HostNetwork != 2 || cov.Total.DefaultDenyIngress != 2 {
		t.Errorf("coverage in JSON: %+v", r.Coverage)
	}
}

func TestCanReach(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"netpol-shop/api", "netpol-data/db", "--port", "pg"}, 0,
			"netpol-shop/api  netpol-data/db  5432/TCP  yes      allowed by netpol-shop/api-from-web egress[0]  allowed by netpol-data/db-from-api ingress[0]", "Note: no NetworkPolicy-enforcing CNI"},
		{[]string{"web", "netpol-data/db", "-n", "netpol-shop"}, 0, "none  no       not isolated  denied by netpol-data/db-from-api, netpol-data/default-deny", ""},
		{[]string{"netpol-shop/*", "netpol-shop/api", "-o", "wide"}, 0, "netpol-shop/web         netpol-shop/api  TCP 9090", "host-agent uses hostNetwork"},
		{[]string{"netpol-shop/web", "netpol-data/nope"}, 1, "", "resolve destination: pod netpol-data/nope not found"},
		{[]string{"1.2.3.4", "5.6.7.8"}, 1, "", "both addresses outside the cluster"},
		{[]string{"a/b/c", "netpol-data/db"}, 1, "", "SRC: endpoint"},
		{[]string{"netpol-shop/web", "netpol-data/db", "--port", "80/ICMP"}, 1, "", "--port: port"},
		{[]string{"netpol-shop/web", "netpol-data/db", "-o", "sarif"}, 1, "", `prints table, wide, json, yaml, name, jsonpath=..., jsonpath-file=..., go-template=..., go-template-file=..., not "sarif"`},
		{[]string{"netpol-shop/web", "netpol-data/db", "--port", "nope"}, 1, "", "has no container port named nope/TCP"},
		// Workloads, by their pod templates: a Job in the -n namespace (its
		// template gets the job-name label seed-egress selects), a Deployment
		// running no pod, a hostNetwork DaemonSet.
		{[]string{"job/seed", "netpol-data/db", "--port", "pg", "-n", "netpol-shop"}, 0,
			"netpol-shop/job/seed  netpol-data/db  5432/TCP  no       allowed by netpol-shop/seed-egress egress[0]  denied by netpol-data/db-from-api, netpol-data/default-deny", ""},
		{[]string{"netpol-shop/api", "netpol-data/deploy/batch", "--port", "80"}, 0,
			"netpol-data/deployment/batch  80/TCP  no       denied by netpol-shop/api-from-web  denied by netpol-data/batch, netpol-data/default-deny", ""},
		{[]string{"netpol-edge/ds/node-proxy", "netpol-shop/web"}, 0, "netpol-edge/daemonset/node-proxy  netpol-shop/web  none", "netpol-edge/daemonset/node-proxy uses hostNetwork"},
		{[]string{"netpol-data/deploy/nope", "netpol-shop/web"}, 1, "", "resolve source: deployment netpol-data/nope not found"},
		{[]string{"netpol-data/secret/x", "netpol-shop/web"}, 1, "", `SRC: endpoint "netpol-data/secret/x": unknown kind`},
	}
	for _, tc := range tests {
		args := append([]string{"netpol", "can-reach", "-f", netpolFixture}, tc.args...)
		code, out, errOut := run(t, "", args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s\nwant %q / %q", tc.args, code, tc.code, out, errOut, tc.out, tc.err)
		}
	}

	code, out, errOut := run(t, "", "netpol", "can-reach", "-f", netpolFixture, "netpol-edge/lb", "netpol-shop/web", "--port", "http", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list CanReachList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if list.Port != "http/TCP" || len(list.Items) != 1 || !list.Items[0].Allowed || list.Items[0].Port != "8080/TCP" ||
		list.Items[0].Ingress.Allowing[0] != "netpol-shop/web-from-edge ingress[0]" {
		t.Errorf("json: %s", out)
	}

	code, out, errOut = run(t, "", "netpol", "can-reach", "-f", netpolFixture, "netpol-shop/job/seed", "netpol-data/db", "--port", "5432", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	list = CanReachList{}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if list.Source != "netpol-shop/job/seed" || len(list.Items) != 1 || list.Items[0].Source != "netpol-shop/job/seed" || list.Items[0].Allowed ||
		!list.Items[0].Egress.Allowed || list.Items[0].Ingress.Allowed {
		t.Errorf("json for a workload: %s", out)
	}
}
