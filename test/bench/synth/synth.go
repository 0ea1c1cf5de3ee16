// Package synth writes synthetic clusters of a given size, shaped like what
// `kubectl get KIND -A -o yaml` prints of a real one: server-set metadata
// (uid, resourceVersion, managedFields, last-applied annotations), status,
// pods owned by the ReplicaSets of Deployments and by StatefulSets, DaemonSets
// and Jobs, bare pods, ServiceAccount token volumes, RBAC with many bindings,
// NetworkPolicies and Secrets. The scale benchmarks and the live loader read it.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Size is the shape of a synthetic cluster.
type Size struct {
	Namespaces int
	Nodes      int
	// Each namespace holds Deployments of DeploymentReplicas pods (each with
	// its current and one old ReplicaSet), one StatefulSet of 3 pods, one Job
	// with its pod, one CronJob and one bare pod; two DaemonSets in
	// kube-system run a pod on every node.
	Deployments        int
	DeploymentReplicas int
}

// S and M are the sizes the scale issue measures: about 5,000 and 50,000 pods.
var (
	S = Size{Namespaces: 200, Nodes: 50, Deployments: 3, DeploymentReplicas: 6}
	M = Size{Namespaces: 2000, Nodes: 500, Deployments: 3, DeploymentReplicas: 6}
)

// Named returns a size by name: S, M, or NsxN for N namespaces at S's density.
func Named(name string) (Size, error) {
	switch strings.ToUpper(name) {
	case "S":
		return S, nil
	case "M":
		return M, nil
	}
	var n int
	if _, err := fmt.Sscanf(name, "ns%d", &n); err == nil && n > 0 {
		s := S
		s.Namespaces = n
		s.Nodes = max(n/4, 1)
		return s, nil
	}
	return Size{}, fmt.Errorf("unknown size %q: S, M or nsN", name)
}

// Pods is the number of pods the size makes.
func (s Size) Pods() int {
	return s.Namespaces*(s.Deployments*s.DeploymentReplicas+3+1+1) + 2*s.Nodes
}

// Kinds are the files WriteDir writes, one List per kind, in this order.
var Kinds = []string{
	"namespaces", "nodes", "serviceaccounts", "secrets", "configmaps", "services",
	"deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "pods",
	"roles", "rolebindings", "clusterroles", "clusterrolebindings", "networkpolicies",
	"validatingwebhookconfigurations", "mutatingwebhookconfigurations",
}

// WriteDir writes the cluster into dir as one `kubectl get KIND -A -o yaml`
// List per kind (KIND.yaml) and returns the bytes written.
func WriteDir(dir string, s Size) (int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var total int64
	for _, k := range Kinds {
		f, err := os.Create(filepath.Join(dir, k+".yaml"))
		if err != nil {
			return total, err
		}
		cw := &countingWriter{w: f}
		bw := bufio.NewWriterSize(cw, 1<<20)
		g := &gen{w: bw, s: s}
		g.list(k)
		err = bw.Flush()
		total += cw.n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// WriteKind writes one kind's List to w.
func WriteKind(w io.Writer, s Size, kind string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{w: bw, s: s}
	g.list(kind)
	return bw.Flush()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type gen struct {
	w       *bufio.Writer
	s       Size
	rv      int
	restart string // the restartPolicy podSpec writes; "" is Always
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(g.w, format, args...) }

// uid is a stable, unique-looking UID for an object.
func uid(parts ...any) string {
	h := uint64(1469598103934665603)
	for _, p := range parts {
		for _, c := range fmt.Sprint(p) {
			h ^= uint64(c)
			h *= 1099511628211
		}
		h ^= '/'
		h *= 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(h), uint16(h>>32), uint16(h>>48), uint16(h>>16), h&0xffffffffffff)
}

func (g *gen) namespace(i int) string {
	return fmt.Sprintf("%s-%04d", []string{"shop", "pay", "data", "ml", "web", "ops", "team"}[i%7], i)
}

// meta writes an item's metadata at two spaces of indentation.
func (g *gen) meta(kind, ns, name string, labels map[string]string, owner string, lastApplied bool) {
	g.rv++
	g.p("  metadata:\n")
	if lastApplied {
		g.p("    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n        {\"apiVersion\":\"v1\",\"kind\":%q,\"metadata\":{\"annotations\":{},\"name\":%q,\"namespace\":%q},\"spec\":{\"note\":\"the whole object as applied, as kubectl apply records it\"}}\n", kind, name, ns)
	}
	g.p("    creationTimestamp: \"2026-10-01T12:00:00Z\"\n")
	if len(labels) > 0 {
		g.p("    labels:\n")
		for _, k := range sortedKeys(labels) {
			g.p("      %s: %q\n", k, labels[k])
		}
	}
	g.p("    managedFields:\n    - apiVersion: v1\n      fieldsType: FieldsV1\n      fieldsV1:\n        f:metadata:\n          f:labels:\n            .: {}\n        f:spec:\n          .: {}\n      manager: kubectl-client-side-apply\n      operation: Update\n      time: \"2026-10-01T12:00:00Z\"\n")
	g.p("    name: %s\n", name)
	if ns != "" {
		g.p("    namespace: %s\n", ns)
	}
	if owner != "" {
		g.p("%s", owner)
	}
	g.p("    resourceVersion: \"%d\"\n    uid: %s\n", g.rv, uid(kind, ns, name))
}

func ownerRef(apiVersion, kind, name, ownerUID string) string {
	return fmt.Sprintf("    ownerReferences:\n    - apiVersion: %s\n      blockOwnerDeletion: true\n      controller: true\n      kind: %s\n      name: %s\n      uid: %s\n", apiVersion, kind, name, ownerUID)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// profile is the security posture of a workload; namespaces get a mix.
type profile int

const (
	restricted profile = iota // passes restricted
	baseline                  // default security context
	loose                     // root, writable root filesystem, no limits
	privileged                // privileged with a hostPath
)

func profileOf(ns, w int) profile {
	switch (ns*7 + w) % 10 {
	case 0, 1, 2, 3:
		return restricted
	case 4, 5, 6:
		return baseline
	case 7, 8:
		return loose
	}
	return privileged
}

// podSpec writes a pod spec at the given indentation (spaces before "containers:").
func (g *gen) podSpec(ind string, app string, image string, pr profile, sa string, pod string, node string) {
	p := func(format string, args ...any) {
		text := fmt.Sprintf(format, args...)
		for _, l := range strings.SplitAfter(text, "\n") {
			if l != "" {
				g.w.WriteString(ind)
				g.w.WriteString(l)
			}
		}
	}
	p("containers:\n")
	p("- env:\n")
	p("  - name: LOG_LEVEL\n    value: info\n")
	p("  - name: POD_NAME\n    valueFrom:\n      fieldRef:\n        apiVersion: v1\n        fieldPath: metadata.name\n")
	p("  image: %s\n  imagePullPolicy: IfNotPresent\n  name: %s\n", image, app)
	p("  ports:\n  - containerPort: 8080\n    name: http\n    protocol: TCP\n")
	if pr != loose {
		p("  resources:\n    limits:\n      cpu: 500m\n      memory: 256Mi\n    requests:\n      cpu: 100m\n      memory: 128Mi\n")
	} else {
		p("  resources: {}\n")
	}
	switch pr {
	case restricted:
		p("  securityContext:\n    allowPrivilegeEscalation: false\n    capabilities:\n      drop:\n      - ALL\n    readOnlyRootFilesystem: true\n    runAsNonRoot: true\n    runAsUser: 10001\n")
	case privileged:
		p("  securityContext:\n    privileged: true\n")
	}
	p("  terminationMessagePath: /dev/termination-log\n  terminationMessagePolicy: File\n")
	p("  volumeMounts:\n")
	if pr == privileged {
		p("  - mountPath: /host\n    name: host\n")
	}
	if pod != "" {
		p("  - mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n    name: kube-api-access-%s\n    readOnly: true\n", suffix(pod))
	}
	p("dnsPolicy: ClusterFirst\n")
	p("enableServiceLinks: true\n")
	if node != "" {
		p("nodeName: %s\n", node)
	}
	p("preemptionPolicy: PreemptLowerPriority\npriority: 0\nrestartPolicy: %s\nschedulerName: default-scheduler\n", cmpOr(g.restart, "Always"))
	if pr == restricted {
		p("securityContext:\n  runAsNonRoot: true\n  seccompProfile:\n    type: RuntimeDefault\n")
	} else {
		p("securityContext: {}\n")
	}
	p("serviceAccount: %s\nserviceAccountName: %s\n", sa, sa)
	p("terminationGracePeriodSeconds: 30\n")
	if pod != "" {
		p("tolerations:\n- effect: NoExecute\n  key: node.kubernetes.io/not-ready\n  operator: Exists\n  tolerationSeconds: 300\n- effect: NoExecute\n  key: node.kubernetes.io/unreachable\n  operator: Exists\n  tolerationSeconds: 300\n")
	}
	p("volumes:\n")
	if pr == privileged {
		p("- hostPath:\n    path: /var/log\n    type: \"\"\n  name: host\n")
	}
	if pod != "" {
		p("- name: kube-api-access-%s\n  projected:\n    defaultMode: 420\n    sources:\n    - serviceAccountToken:\n        expirationSeconds: 3607\n        path: token\n    - configMap:\n        items:\n        - key: ca.crt\n          path: ca.crt\n        name: kube-root-ca.crt\n    - downwardAPI:\n        items:\n        - fieldRef:\n            apiVersion: v1\n            fieldPath: metadata.namespace\n          path: namespace\n", suffix(pod))
	} else {
		p("- emptyDir: {}\n  name: scratch\n")
	}
}

func suffix(s string) string {
	u := uid(s)
	return u[len(u)-5:]
}

// pod writes one pod item.
func (g *gen) pod(ns, name, app string, labels map[string]string, owner, image string, pr profile, sa, node string, ip int, phase string) {
	g.p("- apiVersion: v1\n  kind: Pod\n")
	g.meta("Pod", ns, name, labels, owner, false)
	g.p("  spec:\n")
	g.podSpec("    ", app, image, pr, sa, name, node)
	g.p("  status:\n    conditions:\n    - lastProbeTime: null\n      lastTransitionTime: \"2026-10-01T12:00:05Z\"\n      status: \"True\"\n      type: Ready\n")
	g.p("    containerStatuses:\n    - containerID: containerd://%s\n      image: %s\n      imageID: %s@sha256:%064x\n      lastState: {}\n      name: %s\n      ready: true\n      restartCount: 0\n      started: true\n      state:\n        running:\n          startedAt: \"2026-10-01T12:00:04Z\"\n", uid(name, "c"), image, image, ip, app)
	g.p("    hostIP: 10.0.%d.%d\n    phase: %s\n    podIP: 10.%d.%d.%d\n    podIPs:\n    - ip: 10.%d.%d.%d\n    qosClass: Burstable\n    startTime: \"2026-10-01T12:00:00Z\"\n",
		ip%200, ip%250, phase, 100+ip>>16&0x3f, ip>>8&0xff, ip&0xff, 100+ip>>16&0x3f, ip>>8&0xff, ip&0xff)
}

func (g *gen) node(i int) string { return fmt.Sprintf("node-%04d", i%max(g.s.Nodes, 1)) }

func (g *gen) list(kind string) {
	if kind == "validatingwebhookconfigurations" || kind == "mutatingwebhookconfigurations" {
		g.p("apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: \"\"\n")
		return
	}
	g.p("apiVersion: v1\nitems:\n")
	s := g.s
	ip := 0
	switch kind {
	case "namespaces":
		for _, n := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
			g.p("- apiVersion: v1\n  kind: Namespace\n")
			g.meta("Namespace", "", n, map[string]string{"kubernetes.io/metadata.name": n}, "", false)
			g.p("  spec:\n    finalizers:\n    - kubernetes\n  status:\n    phase: Active\n")
		}
		for i := range s.Namespaces {
			ns := g.namespace(i)
			labels := map[string]string{"kubernetes.io/metadata.name": ns, "team": fmt.Sprintf("t%d", i%40)}
			switch i % 4 {
			case 0:
				labels["pod-security.kubernetes.io/enforce"] = "restricted"
			case 1:
				labels["pod-security.kubernetes.io/enforce"] = "baseline"
				labels["pod-security.kubernetes.io/warn"] = "restricted"
			}
			g.p("- apiVersion: v1\n  kind: Namespace\n")
			g.meta("Namespace", "", ns, labels, "", true)
			g.p("  spec:\n    finalizers:\n    - kubernetes\n  status:\n    phase: Active\n")
		}
	case "nodes":
		for i := range s.Nodes {
			n := g.node(i)
			g.p("- apiVersion: v1\n  kind: Node\n")
			g.meta("Node", "", n, map[string]string{"kubernetes.io/hostname": n, "kubernetes.io/os": "linux", "node-role.kubernetes.io/worker": ""}, "", false)
			g.p("  spec:\n    podCIDR: 10.244.%d.0/24\n    providerID: synthetic://%s\n", i%250, n)
			g.p("  status:\n    addresses:\n    - address: 10.0.%d.%d\n      type: InternalIP\n    - address: %s\n      type: Hostname\n", i/250, i%250, n)
			g.p("    allocatable:\n      cpu: \"8\"\n      memory: 32Gi\n      pods: \"110\"\n    capacity:\n      cpu: \"8\"\n      memory: 32Gi\n      pods: \"110\"\n")
			g.p("    conditions:\n    - lastHeartbeatTime: \"2026-10-01T12:00:00Z\"\n      lastTransitionTime: \"2026-10-01T12:00:00Z\"\n      message: kubelet is posting ready status\n      reason: KubeletReady\n      status: \"True\"\n      type: Ready\n")
			g.p("    nodeInfo:\n      architecture: amd64\n      containerRuntimeVersion: containerd://2.1.0\n      kernelVersion: 6.12.0\n      kubeProxyVersion: v1.37.2\n      kubeletVersion: v1.37.2\n      operatingSystem: linux\n      osImage: Debian GNU/Linux 13\n")
		}
	case "serviceaccounts":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			for _, sa := range []string{"default", "app", "batch"} {
				g.p("- apiVersion: v1\n  kind: ServiceAccount\n")
				g.meta("ServiceAccount", ns, sa, nil, "", sa != "default")
				if sa == "default" && i%3 == 0 {
					g.p("  automountServiceAccountToken: false\n")
				}
			}
		}
	case "secrets":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			for j, name := range []string{"app-config", "db-credentials", "registry"} {
				if j == 2 {
					g.p("- apiVersion: v1\n  data:\n    .dockerconfigjson: eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiZVhvPSJ9fX0=\n  kind: Secret\n")
				} else {
					g.p("- apiVersion: v1\n  data:\n    password: c3VwZXItc2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZy1lbm91Z2g=\n    username: YXBw\n  kind: Secret\n")
				}
				g.meta("Secret", ns, name, nil, "", true)
				g.p("  type: %s\n", []string{"Opaque", "Opaque", "kubernetes.io/dockerconfigjson"}[j])
			}
			if i%10 == 0 {
				g.p("- apiVersion: v1\n  data:\n    token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuZXlKcGMzTWlPaUpyZFdKbGNtNWxkR1Z6SW4wLnNpZ25hdHVyZQ==\n  kind: Secret\n")
				g.p("  metadata:\n    annotations:\n      kubernetes.io/service-account.name: app\n    name: app-token\n    namespace: %s\n    uid: %s\n", ns, uid("Secret", ns, "app-token"))
				g.p("  type: kubernetes.io/service-account-token\n")
			}
		}
	case "configmaps":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			g.p("- apiVersion: v1\n  data:\n    ca.crt: |\n      -----BEGIN CERTIFICATE-----\n      MIIDBTCCAe2gAwIBAgIIUZ3aS1u0f5MwDQYJKoZIhvcNAQELBQAwFTETMBEGA1UEAxMKa3ViZXJuZXRl\n      -----END CERTIFICATE-----\n  kind: ConfigMap\n")
			g.meta("ConfigMap", ns, "kube-root-ca.crt", nil, "", false)
			g.p("- apiVersion: v1\n  data:\n    settings.yaml: |\n      listen: :8080\n      log: info\n  kind: ConfigMap\n")
			g.meta("ConfigMap", ns, "app-settings", map[string]string{"app": "app"}, "", true)
		}
	case "services":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			for d := range s.Deployments {
				app := fmt.Sprintf("web-%d", d)
				g.p("- apiVersion: v1\n  kind: Service\n")
				g.meta("Service", ns, app, map[string]string{"app": app}, "", true)
				g.p("  spec:\n    clusterIP: 10.96.%d.%d\n    ports:\n    - name: http\n      port: 80\n      protocol: TCP\n      targetPort: http\n    selector:\n      app: %s\n    type: ClusterIP\n  status:\n    loadBalancer: {}\n", i%250, d, app)
			}
		}
	case "deployments", "replicasets":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			for d := range s.Deployments {
				app := fmt.Sprintf("web-%d", d)
				pr := profileOf(i, d)
				image := fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", ns[:4], app, d, i%5)
				sel := map[string]string{"app": app}
				if kind == "deployments" {
					g.p("- apiVersion: apps/v1\n  kind: Deployment\n")
					g.meta("Deployment", ns, app, sel, "", true)
					g.p("  spec:\n    progressDeadlineSeconds: 600\n    replicas: %d\n    revisionHistoryLimit: 10\n    selector:\n      matchLabels:\n        app: %s\n    strategy:\n      rollingUpdate:\n        maxSurge: 25%%\n        maxUnavailable: 25%%\n      type: RollingUpdate\n", s.DeploymentReplicas, app)
					g.p("    template:\n      metadata:\n        labels:\n          app: %s\n      spec:\n", app)
					g.podSpec("        ", app, image, pr, "app", "", "")
					g.p("  status:\n    availableReplicas: %d\n    observedGeneration: 1\n    readyReplicas: %d\n    replicas: %d\n    updatedReplicas: %d\n", s.DeploymentReplicas, s.DeploymentReplicas, s.DeploymentReplicas, s.DeploymentReplicas)
					continue
				}
				for rev, hash := range []string{"7d9f8c6b5", "5c4b3a291"} {
					replicas := s.DeploymentReplicas
					if rev == 1 {
						replicas = 0
					}
					name := app + "-" + hash
					g.p("- apiVersion: apps/v1\n  kind: ReplicaSet\n")
					g.meta("ReplicaSet", ns, name, map[string]string{"app": app, "pod-template-hash": hash}, ownerRef("apps/v1", "Deployment", app, uid("Deployment", ns, app)), false)
					g.p("  spec:\n    replicas: %d\n    selector:\n      matchLabels:\n        app: %s\n        pod-template-hash: %s\n", replicas, app, hash)
					g.p("    template:\n      metadata:\n        labels:\n          app: %s\n          pod-template-hash: %s\n      spec:\n", app, hash)
					g.podSpec("        ", app, image, pr, "app", "", "")
					g.p("  status:\n    observedGeneration: 1\n    replicas: %d\n", replicas)
				}
			}
		}
	case "statefulsets":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			g.p("- apiVersion: apps/v1\n  kind: StatefulSet\n")
			g.meta("StatefulSet", ns, "db", map[string]string{"app": "db"}, "", true)
			g.p("  spec:\n    replicas: 3\n    selector:\n      matchLabels:\n        app: db\n    serviceName: db\n    template:\n      metadata:\n        labels:\n          app: db\n      spec:\n")
			g.podSpec("        ", "db", "registry.example.com/db/postgres:17.2", profileOf(i, 5), "default", "", "")
			g.p("  status:\n    replicas: 3\n")
		}
	case "daemonsets":
		for d, name := range []string{"node-exporter", "log-shipper"} {
			g.p("- apiVersion: apps/v1\n  kind: DaemonSet\n")
			g.meta("DaemonSet", "kube-system", name, map[string]string{"app": name}, "", true)
			g.p("  spec:\n    selector:\n      matchLabels:\n        app: %s\n    template:\n      metadata:\n        labels:\n          app: %s\n      spec:\n", name, name)
			g.podSpec("        ", name, "registry.example.com/infra/"+name+":2.0", []profile{baseline, privileged}[d], "default", "", "")
			g.p("  status:\n    numberReady: %d\n", s.Nodes)
		}
	case "jobs", "cronjobs":
		g.restart = "OnFailure" // a Job's pods may not restart Always
		defer func() { g.restart = "" }()
		for i := range s.Namespaces {
			ns := g.namespace(i)
			if kind == "cronjobs" {
				g.p("- apiVersion: batch/v1\n  kind: CronJob\n")
				g.meta("CronJob", ns, "report", nil, "", true)
				g.p("  spec:\n    schedule: \"0 3 * * *\"\n    jobTemplate:\n      spec:\n        template:\n          spec:\n")
				g.podSpec("            ", "report", "registry.example.com/batch/report:3.1", profileOf(i, 6), "batch", "", "")
				g.p("  status: {}\n")
				continue
			}
			g.p("- apiVersion: batch/v1\n  kind: Job\n")
			g.meta("Job", ns, "report-29000000", map[string]string{"job-name": "report-29000000"}, ownerRef("batch/v1", "CronJob", "report", uid("CronJob", ns, "report")), false)
			g.p("  spec:\n    backoffLimit: 6\n    completions: 1\n    template:\n      metadata:\n        labels:\n          job-name: report-29000000\n      spec:\n")
			g.podSpec("        ", "report", "registry.example.com/batch/report:3.1", profileOf(i, 6), "batch", "", "")
			g.p("  status:\n    active: 1\n")
		}
	case "pods":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			for d := range s.Deployments {
				app := fmt.Sprintf("web-%d", d)
				rs := app + "-7d9f8c6b5"
				image := fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", ns[:4], app, d, i%5)
				for r := range s.DeploymentReplicas {
					name := fmt.Sprintf("%s-%s", rs, suffix(fmt.Sprint(ns, rs, r)))
					ip++
					g.pod(ns, name, app, map[string]string{"app": app, "pod-template-hash": "7d9f8c6b5"}, ownerRef("apps/v1", "ReplicaSet", rs, uid("ReplicaSet", ns, rs)), image, profileOf(i, d), "app", g.node(ip), ip, "Running")
				}
			}
			for r := range 3 {
				ip++
				g.pod(ns, fmt.Sprintf("db-%d", r), "db", map[string]string{"app": "db", "apps.kubernetes.io/pod-index": fmt.Sprint(r)}, ownerRef("apps/v1", "StatefulSet", "db", uid("StatefulSet", ns, "db")), "registry.example.com/db/postgres:17.2", profileOf(i, 5), "default", g.node(ip), ip, "Running")
			}
			ip++
			g.restart = "OnFailure"
			g.pod(ns, "report-29000000-"+suffix(ns), "report", map[string]string{"job-name": "report-29000000"}, ownerRef("batch/v1", "Job", "report-29000000", uid("Job", ns, "report-29000000")), "registry.example.com/batch/report:3.1", profileOf(i, 6), "batch", g.node(ip), ip, "Running")
			ip++
			g.restart = ""
			g.pod(ns, "debug", "debug", map[string]string{"run": "debug"}, "", "busybox:latest", loose, "default", g.node(ip), ip, "Running")
		}
		for d, name := range []string{"node-exporter", "log-shipper"} {
			for n := range s.Nodes {
				ip++
				g.pod("kube-system", fmt.Sprintf("%s-%s", name, suffix(fmt.Sprint(name, n))), name, map[string]string{"app": name}, ownerRef("apps/v1", "DaemonSet", name, uid("DaemonSet", "kube-system", name)), "registry.example.com/infra/"+name+":2.0", []profile{baseline, privileged}[d], "default", g.node(n), ip, "Running")
			}
		}
	case "roles", "rolebindings":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			if kind == "roles" {
				g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n")
				g.meta("Role", ns, "app", nil, "", true)
				g.p("  rules:\n  - apiGroups:\n    - \"\"\n    resources:\n    - configmaps\n    verbs:\n    - get\n    - list\n    - watch\n")
				g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n")
				g.meta("Role", ns, "deployer", nil, "", true)
				g.p("  rules:\n  - apiGroups:\n    - apps\n    resources:\n    - deployments\n    verbs:\n    - '*'\n  - apiGroups:\n    - \"\"\n    resources:\n    - secrets\n    verbs:\n    - get\n    - list\n")
				if i%20 == 0 {
					g.p("  - apiGroups:\n    - \"\"\n    resources:\n    - pods/exec\n    verbs:\n    - create\n")
				}
				continue
			}
			bind := func(name, roleKind, role, subjects string) {
				g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: RoleBinding\n")
				g.meta("RoleBinding", ns, name, nil, "", true)
				g.p("  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: %s\n    name: %s\n  subjects:\n%s", roleKind, role, subjects)
			}
			bind("app", "Role", "app", fmt.Sprintf("  - kind: ServiceAccount\n    name: app\n    namespace: %s\n", ns))
			bind("deployer", "Role", "deployer", fmt.Sprintf("  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: team-%d\n  - kind: ServiceAccount\n    name: batch\n    namespace: %s\n", i%40, ns))
			bind("view", "ClusterRole", "view", fmt.Sprintf("  - apiGroup: rbac.authorization.k8s.io\n    kind: User\n    name: dev-%d@example.com\n", i%100))
			if i%25 == 0 {
				bind("ops-admin", "ClusterRole", "admin", "  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: ops\n")
			}
		}
	case "clusterroles":
		for _, r := range []string{"view", "edit", "admin", "cluster-admin"} {
			g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n")
			g.meta("ClusterRole", "", r, map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}, "", false)
			switch r {
			case "cluster-admin":
				g.p("  rules:\n  - apiGroups:\n    - '*'\n    resources:\n    - '*'\n    verbs:\n    - '*'\n  - nonResourceURLs:\n    - '*'\n    verbs:\n    - '*'\n")
			case "view":
				g.p("  rules:\n  - apiGroups:\n    - \"\"\n    resources:\n    - pods\n    - services\n    - configmaps\n    verbs:\n    - get\n    - list\n    - watch\n")
			default:
				g.p("  rules:\n  - apiGroups:\n    - \"\"\n    resources:\n    - pods\n    - pods/exec\n    - secrets\n    - services\n    verbs:\n    - '*'\n  - apiGroups:\n    - apps\n    resources:\n    - '*'\n    verbs:\n    - '*'\n")
			}
		}
		for i := range max(s.Namespaces/10, 10) {
			g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRole\n")
			g.meta("ClusterRole", "", fmt.Sprintf("operator-%d", i), nil, "", true)
			g.p("  rules:\n  - apiGroups:\n    - \"\"\n    resources:\n    - pods\n    - configmaps\n    verbs:\n    - get\n    - list\n    - watch\n")
			if i%5 == 0 {
				g.p("  - apiGroups:\n    - \"\"\n    resources:\n    - secrets\n    verbs:\n    - get\n    - list\n")
			}
		}
	case "clusterrolebindings":
		g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n")
		g.meta("ClusterRoleBinding", "", "cluster-admin", map[string]string{"kubernetes.io/bootstrapping": "rbac-defaults"}, "", false)
		g.p("  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: ClusterRole\n    name: cluster-admin\n  subjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: system:masters\n")
		for i := range max(s.Namespaces/10, 10) {
			g.p("- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n")
			g.meta("ClusterRoleBinding", "", fmt.Sprintf("operator-%d", i), nil, "", true)
			g.p("  roleRef:\n    apiGroup: rbac.authorization.k8s.io\n    kind: ClusterRole\n    name: operator-%d\n  subjects:\n  - kind: ServiceAccount\n    name: app\n    namespace: %s\n", i, g.namespace(i))
		}
	case "networkpolicies":
		for i := range s.Namespaces {
			ns := g.namespace(i)
			if i%3 == 2 {
				continue // a third of the namespaces have none
			}
			g.p("- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n")
			g.meta("NetworkPolicy", ns, "default-deny", nil, "", true)
			g.p("  spec:\n    podSelector: {}\n    policyTypes:\n    - Ingress\n")
			g.p("- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n")
			g.meta("NetworkPolicy", ns, "web-from-ingress", nil, "", true)
			g.p("  spec:\n    ingress:\n    - from:\n      - namespaceSelector:\n          matchLabels:\n            kubernetes.io/metadata.name: ingress\n      ports:\n      - port: http\n        protocol: TCP\n    podSelector:\n      matchLabels:\n        app: web-0\n    policyTypes:\n    - Ingress\n")
		}
	}
	g.p("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
