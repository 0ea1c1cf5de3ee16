package psa

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Violation is one upstream PodSecurity check a pod spec fails, and the fields to change.
type Violation struct {
	// Check is the upstream check ID (privileged, hostNamespaces, runAsNonRoot, ...).
	Check string `json:"check"`
	// Level is the level the check belongs to: baseline checks also bind restricted.
	Level api.Level `json:"level"`
	// Reason and Detail are the API server's own words for the violation.
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
	// Fields are the paths in the object to change, e.g.
	// spec.template.spec.containers[0].securityContext.privileged.
	Fields []string `json:"fields,omitempty"`
}

// judgement is a pod spec's result at one level and version.
type judgement struct {
	allowed bool
	// reason is AggregateCheckResult.ForbiddenReason(): what the API server prints after a pod's name.
	reason     string
	violations []Violation
}

// evaluator judges pod specs with the upstream PodSecurity checks. The
// verdict is always the full upstream evaluator's; one evaluator per check
// only names the check behind each forbidden reason, which the aggregate result does not.
type evaluator struct {
	full policy.Evaluator
	// single holds one evaluator per check, in the order the full evaluator
	// reports results: baseline check IDs sorted, then restricted ones.
	single []singleCheck
	// newest is the newest policy version the library knows (its "latest").
	newest api.Version
	// overrides caches overridden() per version.
	overrides map[api.Version]map[policy.CheckID]bool
}

type singleCheck struct {
	id       policy.CheckID
	level    api.Level
	versions []policy.VersionedCheck
	eval     policy.Evaluator
}

// overridden returns the baseline checks that restricted checks replace at a
// version (capabilities, seccomp, hostPath volumes, procMount), as the
// upstream registry does: they fail on their own but are not part of restricted.
func (e *evaluator) overridden(v api.Version) map[policy.CheckID]bool {
	if o, ok := e.overrides[v]; ok {
		return o
	}
	out := map[policy.CheckID]bool{}
	e.overrides[v] = out
	for _, s := range e.single {
		var active *policy.VersionedCheck
		for i := range s.versions {
			if !v.Older(s.versions[i].MinimumVersion) {
				active = &s.versions[i]
			}
		}
		if active != nil {
			for _, id := range active.OverrideCheckIDs {
				out[id] = true
			}
		}
	}
	return out
}

func newEvaluator() (*evaluator, error) {
	checks := policy.DefaultChecks()
	full, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		return nil, fmt.Errorf("build the PodSecurity evaluator: %w", err)
	}
	e := &evaluator{full: full, overrides: map[api.Version]map[policy.CheckID]bool{}}
	slices.SortFunc(checks, func(a, b policy.Check) int {
		if a.Level != b.Level {
			return api.CompareLevels(a.Level, b.Level) // baseline first
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, c := range checks {
		one, err := policy.NewEvaluator([]policy.Check{c}, nil)
		if err != nil {
			return nil, fmt.Errorf("build the PodSecurity evaluator for check %s: %w", c.ID, err)
		}
		e.single = append(e.single, singleCheck{id: c.ID, level: c.Level, versions: c.Versions, eval: one})
		last := c.Versions[len(c.Versions)-1].MinimumVersion
		if e.newest.Older(last) {
			e.newest = last
		}
	}
	return e, nil
}

// judge evaluates a pod spec at one level and version. specPath is the path
// of the PodSpec in its object and metaPath that of the pod metadata, for field paths.
func (e *evaluator) judge(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec, metaPath, specPath *field.Path) judgement {
	agg := policy.AggregateCheckResults(e.full.EvaluatePod(lv, meta, spec))
	if agg.Allowed {
		return judgement{allowed: true}
	}
	j := judgement{reason: agg.ForbiddenReason()}
	// The aggregate lists failures in check order; walk the single-check
	// results in the same order and pair them by reason and detail,
	// leaving out the baseline checks a restricted one overrides.
	var skip map[policy.CheckID]bool
	if lv.Level == api.LevelRestricted {
		skip = e.overridden(lv.Version)
	}
	next := 0
	for i, reason := range agg.ForbiddenReasons {
		v := Violation{Reason: reason, Detail: agg.ForbiddenDetails[i]}
		for k := next; k < len(e.single); k++ {
			s := e.single[k]
			if api.CompareLevels(s.level, lv.Level) > 0 || skip[s.id] {
				continue
			}
			r := policy.AggregateCheckResults(s.eval.EvaluatePod(lv, meta, spec))
			if r.Allowed || r.ForbiddenReasons[0] != v.Reason || r.ForbiddenDetails[0] != v.Detail {
				continue
			}
			v.Check, v.Level = string(s.id), s.level
			v.Fields = locate(s.id, lv.Version, v.Detail, meta, spec, metaPath, specPath)
			next = k + 1
			break
		}
		j.violations = append(j.violations, v)
	}
	return j
}

var serverVersionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:[.+-].*)?$`)

// PolicyVersion returns the PodSecurity policy version of an API server's
// version (v1.37.2, 1.30, v1.29.4-eks-1): its major and minor. An empty
// string means unknown, and gives the newest policy the library knows, as
// a namespace labelled "latest" would get on a server of the same release.
func PolicyVersion(serverVersion string) (api.Version, error) {
	if serverVersion == "" {
		return api.LatestVersion(), nil
	}
	m := serverVersionRE.FindStringSubmatch(serverVersion)
	if m == nil {
		return api.Version{}, fmt.Errorf("server version %q: want a Kubernetes version such as v1.37 or v1.37.2", serverVersion)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major != 1 {
		return api.Version{}, fmt.Errorf("server version %q: only Kubernetes 1.x has Pod Security levels", serverVersion)
	}
	return api.MajorMinorVersion(major, minor), nil
}
