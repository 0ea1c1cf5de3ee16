package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		_ = inv.readStream("fuzz", strings.NewReader(string(data)))
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
