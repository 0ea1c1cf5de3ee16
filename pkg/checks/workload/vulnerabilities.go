package workload

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// The facets of workload/image-vulnerabilities.
const (
	vulnFixableCritical = "fixable-critical"
	vulnFixableHigh     = "fixable-high"
	vulnNotScanned      = "not-scanned"
)

// maxVulnEvidence bounds the vulnerabilities a finding lists in its evidence.
const maxVulnEvidence = 20

// The labels trivy-operator puts on a report: the scanned object and container.
const (
	trivyKind      = "trivy-operator.resource.kind"
	trivyName      = "trivy-operator.resource.name"
	trivyNamespace = "trivy-operator.resource.namespace"
	trivyContainer = "trivy-operator.container.name"
)

func imageVulnerabilitiesCheck() checks.Check {
	return checks.Check{
		ID: IDImageVulnerabilities, Domain: Domain, Severity: finding.High,
		Range:       [2]finding.Severity{finding.Low, finding.High},
		Title:       "Image has critical or high vulnerabilities with a fix available, or no scan result",
		Description: "A workload running an image with known critical or high vulnerabilities that already have a fixed version is exposed for no reason but a missing rebuild. Read from the scan results trivy-operator publishes in the cluster (VulnerabilityReport, aquasecurity.github.io/v1alpha1); a container with no report for its image is reported as not scanned, and where no scan result is visible at all the check is unknown, never passing.",
		Remediation: "Rebuild the image on a patched base or upgrade to a release with the fixed versions, roll it out, and keep a scanner reporting on every running image.",
		Facets:      []string{vulnFixableCritical, vulnFixableHigh, vulnNotScanned},
		Needs:       append(append([]inventory.Kind(nil), workloadKinds...), inventory.VulnerabilityReports),
		Unseen: func(inv *inventory.Inventory) string {
			if len(inv.VulnerabilityReports) > 0 {
				return ""
			}
			if inv.Offline {
				return "no image scan results visible: no VulnerabilityReport (aquasecurity.github.io, trivy-operator) in the input"
			}
			if inv.NotInstalled[inventory.VulnerabilityReports] {
				return "no image scan results visible: VulnerabilityReports (aquasecurity.github.io, trivy-operator) are not served"
			}
			return "no image scan results visible: no VulnerabilityReport (aquasecurity.github.io, trivy-operator) exists"
		},
		Run: imageVulnerabilities,
	}
}

// scanReport is what the check reads of one VulnerabilityReport.
type scanReport struct {
	name  string
	image imageRef
	vulns []vulnerability
}

type vulnerability struct {
	ID, Severity, Resource, Installed, Fixed string
}

// reportKey is the object and container a report is about.
type reportKey struct{ kind, namespace, name, container string }

func readReport(u *unstructured.Unstructured) (reportKey, scanReport) {
	labels, annotations := u.GetLabels(), u.GetAnnotations()
	k := reportKey{kind: labels[trivyKind], namespace: labels[trivyNamespace], name: labels[trivyName], container: labels[trivyContainer]}
	if k.name == "" {
		k.name = annotations[trivyName] // long names are kept in an annotation
	}
	if k.namespace == "" {
		k.namespace = u.GetNamespace()
	}
	if k.kind == "" || k.name == "" {
		for _, o := range u.GetOwnerReferences() {
			if o.Controller != nil && *o.Controller {
				k.kind, k.name = o.Kind, o.Name
			}
		}
	}
	str := func(fields ...string) string {
		s, _, _ := unstructured.NestedString(u.Object, fields...)
		return s
	}
	ref := str("report", "registry", "server")
	if ref != "" {
		ref += "/"
	}
	ref += str("report", "artifact", "repository")
	if t := str("report", "artifact", "tag"); t != "" {
		ref += ":" + t
	}
	if d := str("report", "artifact", "digest"); d != "" {
		ref += "@" + d
	}
	r := scanReport{name: u.GetName(), image: parseImage(ref)}
	items, _, _ := unstructured.NestedSlice(u.Object, "report", "vulnerabilities")
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		s := func(f string) string { v, _ := m[f].(string); return v }
		r.vulns = append(r.vulns, vulnerability{ID: s("vulnerabilityID"), Severity: strings.ToUpper(s("severity")),
			Resource: s("resource"), Installed: s("installedVersion"), Fixed: s("fixedVersion")})
	}
	return k, r
}

// imageRef is an image reference normalised as registries name it.
type imageRef struct{ repository, tag, digest string }

// parseImage normalises a reference: docker.io and index.docker.io are one
// registry, whose one-part names are in library/, and no tag is latest.
func parseImage(s string) imageRef {
	var r imageRef
	s, r.digest, _ = strings.Cut(s, "@")
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		s, r.tag = s[:i], s[i+1:]
	}
	domain, rest, found := strings.Cut(s, "/")
	if !found || (!strings.ContainsAny(domain, ".:") && domain != "localhost") {
		domain, rest = "docker.io", s
	}
	if domain == "index.docker.io" || domain == "registry-1.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	r.repository = domain + "/" + rest
	if r.tag == "" && r.digest == "" {
		r.tag = "latest"
	}
	return r
}

// same reports whether a report's image is the container's: the same
// repository, and the same digest when both have one, else the same tag.
func (r imageRef) same(o imageRef) bool {
	if r.repository != o.repository {
		return false
	}
	if r.digest != "" && o.digest != "" {
		return r.digest == o.digest
	}
	return r.tag == o.tag
}

func (r imageRef) String() string {
	s := r.repository
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

func imageVulnerabilities(inv *inventory.Inventory) []finding.Finding {
	reports := map[reportKey][]scanReport{}
	for i := range inv.VulnerabilityReports {
		k, r := readReport(&inv.VulnerabilityReports[i])
		reports[k] = append(reports[k], r)
	}
	specs := inventory.PodSpecs(inv)
	// The objects a top-level workload stands for: itself and what it makes
	// (trivy-operator reports on a Deployment's ReplicaSets, a pod's controller).
	family := map[int][]inventory.ObjectRef{}
	for i, s := range specs {
		top := i
		if s.Owner >= 0 {
			top = s.Owner
		}
		family[top] = append(family[top], s.Ref)
		for _, o := range s.Meta.OwnerReferences {
			if o.Controller != nil && *o.Controller {
				family[top] = append(family[top], inventory.ObjectRef{Kind: o.Kind, Namespace: s.Ref.Namespace, Name: o.Name})
			}
		}
	}
	var out []finding.Finding
	for i, s := range specs {
		if s.Owner >= 0 || s.Mirror || s.Ref.Kind == "PodTemplate" || systemNamespace(inv, s.Ref.Namespace) {
			continue
		}
		res := finding.Resource{APIVersion: s.Ref.APIVersion, Kind: s.Ref.Kind, Namespace: s.Ref.Namespace, Name: s.Ref.Name}
		each := func(field string, cs []corev1.Container) {
			for ci := range cs {
				c := &cs[ci]
				path := fmt.Sprintf("%s.%s[%d].image", s.Path, field, ci)
				if f, ok := containerScan(res, c, path, family[i], reports); ok {
					out = append(out, f)
				}
			}
		}
		each("initContainers", s.Spec.InitContainers)
		each("containers", s.Spec.Containers)
	}
	return out
}

// containerScan judges one container by the reports on its workload's objects.
func containerScan(res finding.Resource, c *corev1.Container, path string, family []inventory.ObjectRef, reports map[reportKey][]scanReport) (finding.Finding, bool) {
	image := parseImage(c.Image)
	var matching, other []scanReport
	for _, o := range family {
		for _, r := range reports[reportKey{kind: o.Kind, namespace: o.Namespace, name: o.Name, container: c.Name}] {
			if r.image.same(image) {
				matching = append(matching, r)
			} else {
				other = append(other, r)
			}
		}
	}
	where := fmt.Sprintf("%s %s container %s (image %s)", res.Kind, qualified(res), c.Name, c.Image)
	fix := remedy.NewManual(fmt.Sprintf("Rebuild %s on a patched base or move to a release with the fixed versions listed in the evidence, then roll it out: "+
		"kubectl set image -n %s %s/%s %s=IMAGE:FIXED-TAG (or change the image in the manifest that deploys it).", c.Image, res.Namespace, strings.ToLower(res.Kind), res.Name, c.Name))
	if len(matching) == 0 {
		msg := where + ": no image scan result (VulnerabilityReport) for this image"
		ev := map[string]any{"container": c.Name, "field": path, "image": c.Image}
		if len(other) > 0 {
			var imgs []string
			for _, r := range other {
				imgs = append(imgs, r.image.String())
			}
			sort.Strings(imgs)
			msg += fmt.Sprintf("; the reports on this workload are for %s", strings.Join(imgs, ", "))
			ev["reportedImages"] = imgs
		}
		return finding.Finding{Severity: finding.Low, Message: msg, Resource: res, Evidence: ev, Facets: []string{vulnNotScanned},
			Remediation: remedy.NewManual("Let the scanner report on this image: check that trivy-operator watches namespace " + res.Namespace +
				" (OPERATOR_TARGET_NAMESPACES, excludeNamespaces) and that its scan job for " + c.Image + " succeeds (kubectl get jobs -n trivy-system).")}, true
	}
	seen := map[string]bool{}
	var fixable []vulnerability
	critical, high := 0, 0
	var names []string
	for _, r := range matching {
		names = append(names, r.name)
		for _, v := range r.vulns {
			if v.Fixed == "" || (v.Severity != "CRITICAL" && v.Severity != "HIGH") {
				continue
			}
			key := v.ID + "\x00" + v.Resource + "\x00" + v.Installed
			if seen[key] {
				continue
			}
			seen[key] = true
			fixable = append(fixable, v)
			if v.Severity == "CRITICAL" {
				critical++
			} else {
				high++
			}
		}
	}
	if len(fixable) == 0 {
		return finding.Finding{}, false
	}
	sort.Slice(fixable, func(a, b int) bool {
		if fixable[a].Severity != fixable[b].Severity {
			return fixable[a].Severity == "CRITICAL"
		}
		return fixable[a].ID+fixable[a].Resource < fixable[b].ID+fixable[b].Resource
	})
	sort.Strings(names)
	sev, facets := finding.Medium, []string{vulnFixableHigh}
	if critical > 0 {
		sev, facets = finding.High, []string{vulnFixableCritical}
		if high > 0 {
			facets = append(facets, vulnFixableHigh)
		}
	}
	var ids []string
	var list []map[string]string
	for i, v := range fixable {
		if i < 3 {
			ids = append(ids, v.ID)
		}
		if i < maxVulnEvidence {
			list = append(list, map[string]string{"id": v.ID, "severity": v.Severity, "package": v.Resource, "installed": v.Installed, "fixed": v.Fixed})
		}
	}
	more := ""
	if len(fixable) > len(ids) {
		more = ", ..."
	}
	msg := fmt.Sprintf("%s: %d critical and %d high vulnerabilities have a fixed version (%s%s)", where, critical, high, strings.Join(ids, ", "), more)
	return finding.Finding{Severity: sev, Message: msg, Resource: res, Facets: facets, Remediation: fix,
		Evidence: map[string]any{"container": c.Name, "field": path, "image": c.Image, "reports": names, "fixable": len(fixable), "vulnerabilities": list}}, true
}
