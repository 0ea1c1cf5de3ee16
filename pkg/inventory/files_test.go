package inventory

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestFromFilesReadsEveryShape(t *testing.T) {
	stdin := strings.NewReader("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  namespace: alpha\n")
	inv, err := FromFiles([]string{"testdata/multi.yaml", "testdata/dump.yaml", "testdata/tree", "-"}, stdin)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{
		"namespaces": len(inv.Namespaces), "secrets": len(inv.Secrets), "pods": len(inv.Pods),
		"clusterrolebindings": len(inv.ClusterRoleBindings), "networkpolicies": len(inv.NetworkPolicies),
		"deployments": len(inv.Deployments), "serviceaccounts": len(inv.ServiceAccounts),
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s: got %d objects, want 1", k, n)
		}
	}
	if !inv.Offline || !inv.Has(Pods) || !inv.Has(Roles) {
		t.Error("an offline inventory has every kind loaded (absent from files means none)")
	}
	if got := inv.Pods[0].ManagedFields; got != nil {
		t.Errorf("managedFields kept: %v", got)
	}
	if got := inv.Secrets[0].ManagedFields; got != nil {
		t.Errorf("secret managedFields kept: %v", got)
	}
	if inv.Secrets[0].Annotations["kubernetes.io/service-account.name"] != "builder" {
		t.Errorf("secret metadata lost: %+v", inv.Secrets[0].ObjectMeta)
	}
	wantSources := map[Key]Source{
		{Kind: "Namespace", Name: "alpha"}:                            {File: "testdata/multi.yaml", Line: 2},
		{Kind: "Secret", Namespace: "alpha", Name: "token"}:           {File: "testdata/multi.yaml", Line: 8},
		{Kind: "Deployment", Namespace: "alpha", Name: "api"}:         {File: "testdata/tree/sub/deploy.yml", Line: 1},
		{Kind: "ServiceAccount", Namespace: "alpha", Name: "builder"}: {File: "<stdin>", Line: 1},
	}
	for k, want := range wantSources {
		if got := inv.Sources[k]; got != want {
			t.Errorf("source of %s = %+v, want %+v", k, got, want)
		}
	}
}

func TestSecretDataNeverKept(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/multi.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The inventory holds PartialObjectMetadata: there is no field that could carry data.
	for _, s := range inv.Secrets {
		for k, v := range s.Annotations {
			if strings.Contains(v, "c2VjcmV0LXZhbHVl") || strings.Contains(k, "data") {
				t.Errorf("secret data leaked into metadata: %s=%s", k, v)
			}
		}
	}
}

func TestMalformedInputNamesFileDocumentAndLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
		doc, line     int
	}{
		{"bad-yaml.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n# comment\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n", 2, 7},
		{"no-kind.yaml", "apiVersion: v1\nmetadata:\n  name: a\n", 1, 1},
		{"bad-field.yaml", "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers: 7\n", 2, 2},
		{"bad-json.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": 1}}", 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := FromFiles([]string{p}, nil)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("want a DecodeError, got %v", err)
			}
			if de.File != p || de.Document != tc.doc || de.Line != tc.line {
				t.Errorf("error %q: got file %s doc %d line %d, want doc %d line %d", err, de.File, de.Document, de.Line, tc.doc, tc.line)
			}
			if !strings.HasPrefix(err.Error(), p+": document") {
				t.Errorf("message does not start with the file: %q", err)
			}
		})
	}
}

func TestMissingPathIsAnError(t *testing.T) {
	_, err := FromFiles([]string{"testdata/nope.yaml"}, nil)
	if err == nil || !strings.Contains(err.Error(), "testdata/nope.yaml") {
		t.Fatalf("got %v", err)
	}
}

func FuzzReadStream(f *testing.F) {
	for _, p := range []string{"testdata/multi.yaml", "testdata/dump.yaml", "testdata/tree/policy.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("kind: List\napiVersion: v1\nitems: [{kind: List, apiVersion: v1, items: []}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv := New()
		// Any input either loads or returns an error; it never panics.
		_ = inv.readSources([]inputSource{{name: "fuzz", stdin: strings.NewReader(string(data))}})
	})
}

func TestFromFilesReadsCustomResourcesAsUnstructured(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/custom-resources.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[Kind]int{
		ClusterImagePolicies: len(inv.ClusterImagePolicies), KyvernoPolicies: len(inv.KyvernoPolicies),
		KyvernoClusterPolicies: len(inv.KyvernoClusterPolicies), ImageValidatingPolicies: len(inv.ImageValidatingPolicies),
		ConstraintTemplates: len(inv.ConstraintTemplates),
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s: got %d objects, want 1", k, n)
		}
		if !inv.Has(k) {
			t.Errorf("%s not loaded offline", k)
		}
	}
	if _, ok := inv.ClusterImagePolicies[0].Object["metadata"].(map[string]any)["managedFields"]; ok {
		t.Error("managedFields kept")
	}
	if p := inv.KyvernoPolicies[0]; p.GetNamespace() != "shop" || p.GetName() != "verify" {
		t.Errorf("Policy read as %s/%s", p.GetNamespace(), p.GetName())
	}
	if got := inv.Sources[Key{Kind: "ConstraintTemplate", Name: "ratifyverification"}]; got.Line != 30 {
		t.Errorf("ConstraintTemplate source %+v, want line 30", got)
	}
}

func TestCustomKindsHaveTheirGroups(t *testing.T) {
	want := map[Kind]string{
		ClusterImagePolicies: "policy.sigstore.dev", KyvernoClusterPolicies: "kyverno.io", KyvernoPolicies: "kyverno.io",
		ImageValidatingPolicies: "policies.kyverno.io", ConstraintTemplates: "templates.gatekeeper.sh",
	}
	for k, g := range want {
		if k.Group() != g || !k.IsResource() {
			t.Errorf("%s: group %q, want %q", k, k.Group(), g)
		}
	}
}

func TestTokenSecretsByAnnotation(t *testing.T) {
	inv, err := FromFiles([]string{"testdata/multi.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	inv.Secrets = append(inv.Secrets, inv.Secrets[0])
	inv.Secrets[1].Name, inv.Secrets[1].Annotations = "plain", nil
	got := inv.TokenSecrets()
	if len(got) != 1 || got[0].ServiceAccount != "builder" || got[0].Secret.Name != "token" {
		t.Fatalf("token secrets: %+v", got)
	}
}

// A List as kubectl prints it is read an item at a time; every item keeps its
// own line, and the objects are those of the same List read whole.
func TestListItemsReadOneByOne(t *testing.T) {
	list := `apiVersion: v1
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: alpha
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: |
        {"apiVersion":"v1","kind":"Namespace"}
      team: blue
# a comment between items
- apiVersion: v1
  kind: Pod
  metadata:
    name: web
    namespace: alpha
  spec:
    containers:
    - name: web
      image: nginx
      args:
      - |
        a block scalar

        with a blank line
  status:
    phase: Running
    podIP: 10.0.0.1
    hostIP: 192.168.0.1
-   apiVersion: v1
    kind: ServiceAccount
    metadata: {name: builder, namespace: alpha}
kind: List
metadata:
  resourceVersion: ""
`
	split, err := Read([]string{"-"}, strings.NewReader(list), ReadOptions{Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	// The same List indented is not kubectl's shape: it is read as one document.
	head, rest, _ := strings.Cut(list, "items:\n")
	body, tail, _ := strings.Cut(rest, "kind: List\n")
	var b strings.Builder
	b.WriteString(head + "items:\n")
	for _, l := range strings.SplitAfter(body, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	b.WriteString("kind: List\n" + tail)
	whole, err := Read([]string{"-"}, strings.NewReader(b.String()), ReadOptions{Complete: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(split.Pods) != 1 || len(split.Namespaces) != 1 || len(split.ServiceAccounts) != 1 {
		t.Fatalf("split read %d pods, %d namespaces, %d serviceaccounts", len(split.Pods), len(split.Namespaces), len(split.ServiceAccounts))
	}
	if !reflect.DeepEqual(split.Pods, whole.Pods) || !reflect.DeepEqual(split.Namespaces, whole.Namespaces) || !reflect.DeepEqual(split.ServiceAccounts, whole.ServiceAccounts) {
		t.Errorf("split and whole reads differ:\n%+v\n%+v", split.Pods, whole.Pods)
	}
	if got := split.Pods[0].Spec.Containers[0].Args[0]; got != "a block scalar\n\nwith a blank line\n" {
		t.Errorf("block scalar read as %q", got)
	}
	for k, line := range map[Key]int{{Kind: "Namespace", Name: "alpha"}: 3, {Kind: "Pod", Namespace: "alpha", Name: "web"}: 12, {Kind: "ServiceAccount", Namespace: "alpha", Name: "builder"}: 30} {
		if got := split.Sources[k].Line; got != line {
			t.Errorf("%s: line %d, want %d", k, got, line)
		}
	}
	// What no check reads is dropped as objects arrive.
	if a := split.Namespaces[0].Annotations; len(a) != 1 || a["team"] != "blue" {
		t.Errorf("annotations kept: %v", a)
	}
	if st := split.Pods[0].Status; st.Phase != "Running" || st.PodIP != "10.0.0.1" {
		t.Errorf("pod status kept: %+v", st)
	}
}

func TestListItemErrorsNameTheItem(t *testing.T) {
	cases := map[string]struct{ input, want string }{
		"yaml item": {"apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: [x]}\nkind: List\n",
			"<stdin>: document 1, item 2 (line 6)"},
		"json item": {"{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}},\n    {\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n     \"metadata\": {\"name\": 7}}\n  ],\n  \"kind\": \"List\"\n}\n",
			"<stdin>: document 1, item 2 (line 5)"},
		"json syntax":    {"{\"kind\": \"List\", \"items\": [{\"kind\": }]}", "<stdin>: document 1, item 1 (line 1)"},
		"items not List": {"apiVersion: v1\nkind: ConfigMap\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n", "top-level items in a ConfigMap"},
		"json array":     {"[{\"kind\": \"Pod\"}]", "a Kubernetes object is a JSON object"},
	}
	for name, tc := range cases {
		_, err := Read([]string{"-"}, strings.NewReader(tc.input), ReadOptions{Complete: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

// A JSON List (kubectl get -o json) is read an item at a time, with lines.
func TestJSONListItemsHaveLines(t *testing.T) {
	in := "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n        {\n            \"apiVersion\": \"v1\",\n            \"kind\": \"Namespace\",\n            \"metadata\": {\"name\": \"a\"}\n        },\n        {\n            \"apiVersion\": \"v1\",\n            \"kind\": \"Namespace\",\n            \"metadata\": {\"name\": \"b\"}\n        }\n    ],\n    \"kind\": \"List\"\n}\n{\"apiVersion\": \"v1\", \"kind\": \"ServiceAccount\", \"metadata\": {\"name\": \"c\", \"namespace\": \"a\"}}\n"
	inv, err := Read([]string{"-"}, strings.NewReader(in), ReadOptions{Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	for k, line := range map[Key]int{{Kind: "Namespace", Name: "a"}: 4, {Kind: "Namespace", Name: "b"}: 9, {Kind: "ServiceAccount", Namespace: "a", Name: "c"}: 17} {
		if got, ok := inv.Sources[k]; !ok || got.Line != line {
			t.Errorf("%s: %+v, want line %d", k, got, line)
		}
	}
}

// The header scan agrees with decoding the header, or says it cannot tell.
func TestPeekHeaderAgreesWithDecoding(t *testing.T) {
	for _, js := range []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}`,
		`{"apiVersion":"v1","data":{"k":"{\"kind\":\"x\"}"},"kind":"ConfigMap"}`,
		`{"kind":"List","apiVersion":"v1","items":[{"kind":"Pod"}]}`,
		`{"apiVersion":"v1","items":null,"kind":"List"}`,
		`{"metadata":{"kind":"no"},"spec":[1,{"a":"]"}],"kind":"Widget","apiVersion":"x/v1"}`,
		`{"apiVersion":"v1","kind":"Pod\u0041"}`,
		`{"kind":5}`, `[]`, `{}`, `{"apiVersion":"v1"}`,
	} {
		var h typeHeader
		herr := json.Unmarshal([]byte(js), &h)
		api, kind, items, ok := peekHeader([]byte(js), false)
		if !ok {
			continue
		}
		if herr != nil || api != h.APIVersion || kind != h.Kind || items != (h.Items != nil) {
			t.Errorf("%s: peek %q %q items=%v, decode %q %q items=%v err=%v", js, api, kind, items, h.APIVersion, h.Kind, h.Items != nil, herr)
		}
	}
}

// An add-on's kinds (the network policy tiers, Cilium and Calico policies,
// cert-manager Certificates, trivy-operator reports) with no object in the
// files: a cluster dump does not show the cluster has none (absent: their
// checks are skipped) unless the dump's CRDs show the add-on is not
// installed, or --complete or --assume-absent says so; application manifests
// (no kube-system namespace) hold none of their own.
func TestAddOnKindsOffline(t *testing.T) {
	const (
		kubeSystem = "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n"
		app        = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
		ciliumCRD  = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: ciliumnetworkpolicies.cilium.io}\n" +
			"spec: {group: cilium.io, scope: Namespaced, names: {plural: ciliumnetworkpolicies, kind: CiliumNetworkPolicy}}\n"
		cnp = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: base}\n" +
			"spec: {tier: Baseline, priority: 10, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}\n"
	)
	type want struct{ absent, notInstalled, notInManifests bool }
	for _, c := range []struct {
		name  string
		docs  []string
		opts  ReadOptions
		kinds map[Kind]want
	}{
		{"manifests", []string{app}, ReadOptions{}, map[Kind]want{
			ClusterNetworkPolicies: {notInManifests: true}, CiliumNetworkPolicies: {notInManifests: true}, Certificates: {notInManifests: true},
			ClusterImagePolicies: {absent: true}, NetworkPolicies: {absent: true}}},
		{"dump without CRDs", []string{kubeSystem, app}, ReadOptions{}, map[Kind]want{
			ClusterNetworkPolicies: {absent: true}, CiliumNetworkPolicies: {absent: true}, CalicoGlobalNetworkPolicies: {absent: true},
			Certificates: {absent: true}, VulnerabilityReports: {absent: true}}},
		{"dump with CRDs", []string{kubeSystem, app, ciliumCRD}, ReadOptions{}, map[Kind]want{
			ClusterNetworkPolicies: {notInstalled: true}, CalicoNetworkPolicies: {notInstalled: true}, Certificates: {notInstalled: true},
			ClusterImagePolicies: {notInstalled: true},
			// Installed, and its objects were not given.
			CiliumNetworkPolicies: {absent: true}, NetworkPolicies: {absent: true}}},
		{"dump with CRDs, complete", []string{kubeSystem, app, ciliumCRD}, ReadOptions{Complete: true}, map[Kind]want{
			ClusterNetworkPolicies: {notInstalled: true}, CiliumNetworkPolicies: {}, NetworkPolicies: {}}},
		{"dump, assumed absent", []string{kubeSystem, app}, ReadOptions{AssumeAbsent: []Kind{ClusterNetworkPolicies}}, map[Kind]want{
			ClusterNetworkPolicies: {}, AdminNetworkPolicies: {absent: true}}},
		{"dump with objects", []string{kubeSystem, app, cnp}, ReadOptions{}, map[Kind]want{
			ClusterNetworkPolicies: {}, AdminNetworkPolicies: {absent: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "input.yaml")
			if err := os.WriteFile(path, []byte(strings.Join(c.docs, "---\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := Read([]string{path}, nil, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range c.kinds {
				_, absent := inv.Missing[k]
				got := want{absent: absent, notInstalled: inv.NotInstalled[k], notInManifests: inv.NotInManifests[k]}
				if got != w || inv.Has(k) == absent {
					t.Errorf("%s: %+v (loaded %v), want %+v", k, got, inv.Has(k), w)
				}
			}
		})
	}
}

// --complete vouches for every kind but Secrets, which dumps leave out.
func TestCompleteDoesNotVouchForSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := Read([]string{path}, nil, ReadOptions{Complete: true})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Has(Secrets) || inv.Missing[Secrets] != AbsentFromInput || !inv.Has(RoleBindings) {
		t.Errorf("secrets loaded %v (%q), rolebindings loaded %v", inv.Has(Secrets), inv.Missing[Secrets], inv.Has(RoleBindings))
	}
	if inv, err = Read([]string{path}, nil, ReadOptions{Complete: true, AssumeAbsent: []Kind{Secrets}}); err != nil || !inv.Has(Secrets) {
		t.Errorf("--assume-absent secrets: loaded %v, %v", inv != nil && inv.Has(Secrets), err)
	}
}

// The items of kubectl's Lists are counted by kind before they are read, so
// that each kind's list is sized once: no room is left unused.
func TestListsSizedOnce(t *testing.T) {
	pods := func(names ...string) string {
		s := "apiVersion: v1\nitems:\n"
		for _, n := range names {
			s += "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: " + n + "\n    namespace: shop\n" +
				"    ownerReferences:\n    - apiVersion: apps/v1\n      kind: ReplicaSet\n      name: web\n      uid: u\n"
		}
		return s + "kind: List\nmetadata:\n  resourceVersion: \"\"\n"
	}
	dir := t.TempDir()
	first := filepath.Join(dir, "a.yaml")
	second := filepath.Join(dir, "b.yaml")
	mixed := pods("a", "b", "c") + "---\napiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n    kind: not-an-item\n  kind: \"ConfigMap\"\n  metadata:\n    name: cm\n" +
		"-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\nkind: List\n"
	if err := os.WriteFile(first, []byte(mixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte(pods("d", "e")), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(first)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := countItems(f)
	want := map[schema.GroupVersionKind]int{
		{Version: "v1", Kind: "Pod"}: 3, {Version: "v1", Kind: "ConfigMap"}: 1, {Group: "apps", Version: "v1", Kind: "Deployment"}: 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
	inv, err := FromFiles([]string{first, second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Pods) != 5 || cap(inv.Pods) != 5 || len(inv.ConfigMaps) != 1 || cap(inv.ConfigMaps) != 1 || len(inv.Deployments) != 1 {
		t.Errorf("pods len %d cap %d, configmaps len %d cap %d, deployments %d", len(inv.Pods), cap(inv.Pods), len(inv.ConfigMaps), cap(inv.ConfigMaps), len(inv.Deployments))
	}
}
