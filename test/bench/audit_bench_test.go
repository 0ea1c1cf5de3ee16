package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// writeDump writes a `kubectl get -A -o yaml`-shaped List of a cluster with
// the given number of pods (in Deployments of 5 replicas, 50 pods a
// namespace), plus RBAC and NetworkPolicies, and returns its path.
func writeDump(b *testing.B, pods int) string {
	b.Helper()
	var buf bytes.Buffer
	buf.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	nsCount := max(pods/50, 1)
	for n := 0; n < nsCount; n++ {
		ns := fmt.Sprintf("team-%d", n)
		fmt.Fprintf(&buf, `- apiVersion: v1
  kind: Namespace
  metadata:
    name: %[1]s
    labels: {kubernetes.io/metadata.name: %[1]s, pod-security.kubernetes.io/enforce: baseline}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: default-deny, namespace: %[1]s}
  spec: {podSelector: {}, policyTypes: [Ingress]}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: app, namespace: %[1]s}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: app, namespace: %[1]s}
  rules:
  - {apiGroups: [""], resources: [configmaps, secrets], verbs: [get, list]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: app, namespace: %[1]s}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: app}
  subjects: [{kind: ServiceAccount, name: app, namespace: %[1]s}]
`, ns)
		for d := 0; d < 10; d++ {
			fmt.Fprintf(&buf, `- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: app-%[2]d, namespace: %[1]s, uid: d-%[1]s-%[2]d}
  spec:
    replicas: 5
    selector: {matchLabels: {app: app-%[2]d}}
    template:
      metadata: {labels: {app: app-%[2]d}}
      spec:
        serviceAccountName: app
        containers:
        - name: app
          image: registry.example.com/app:1.%[2]d
          resources: {requests: {cpu: 100m}, limits: {memory: 256Mi}}
          securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}}
`, ns, d)
			for p := 0; p < 5; p++ {
				fmt.Fprintf(&buf, `- apiVersion: v1
  kind: Pod
  metadata:
    name: app-%[2]d-%[3]d
    namespace: %[1]s
    labels: {app: app-%[2]d}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: app-%[2]d-rs, uid: r-%[2]d, controller: true}]
  spec:
    serviceAccountName: app
    containers:
    - name: app
      image: registry.example.com/app:1.%[2]d
      resources: {requests: {cpu: 100m}, limits: {memory: 256Mi}}
      securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}}
  status: {phase: Running, podIP: 10.%[4]d.%[2]d.%[3]d}
`, ns, d, p, n%250)
			}
		}
	}
	path := filepath.Join(b.TempDir(), "dump.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkLoadDump is the floor: decoding a 5,000-pod dump.
func BenchmarkLoadDump(b *testing.B) {
	path := writeDump(b, 5000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := inventory.FromFiles([]string{path}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditDump is a whole offline audit of the 5,000-pod dump: load and every check.
func BenchmarkAuditDump(b *testing.B) {
	path := writeDump(b, 5000)
	reg, err := all.Registry()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		inv, err := inventory.FromFiles([]string{path}, nil)
		if err != nil {
			b.Fatal(err)
		}
		res := checks.Run(inv, reg.All())
		_ = all.Coverage(inv, nil)
		if len(res.Ran) == 0 {
			b.Fatal("no check ran")
		}
	}
}

// BenchmarkChecksOnly runs every check over an already loaded 5,000-pod inventory.
func BenchmarkChecksOnly(b *testing.B) {
	path := writeDump(b, 5000)
	reg, err := all.Registry()
	if err != nil {
		b.Fatal(err)
	}
	src, err := inventory.FromFiles([]string{path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		inv := *src // a fresh memo each round, the same objects
		inv.ResetMemo()
		checks.Run(&inv, reg.All())
		_ = all.Coverage(&inv, nil)
	}
}
