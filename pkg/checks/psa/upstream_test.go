package psa

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// upstreamFixtures returns the test/testdata directory of the
// k8s.io/pod-security-admission module this build uses.
func upstreamFixtures(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("find the k8s.io/pod-security-admission module: %v", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("read go list output %q: %v", out, err)
	}
	return filepath.Join(m.Dir, "test", "testdata")
}

type fixture struct {
	level   api.Level
	version api.Version
	pass    bool
	file    string
	check   string // the check the fixture exercises, from its file name
	pod     string // its name in the inventory
}

var fixtureName = regexp.MustCompile(`^(.*?)[0-9]*\.yaml$`)

// TestUpstreamFixtures judges every labelled pod of the upstream module
// (testdata/<level>/v1.N/{pass,fail}/*.yaml) through the plugin: each in a
// namespace whose enforce label pins that level and version, read back with
// Analysis.Verdict. Passing fixtures must pass the level; failing ones must
// fail it, attributed to the check the fixture is named after (or the
// restricted check that overrides it) with the field to change.
func TestUpstreamFixtures(t *testing.T) {
	root := upstreamFixtures(t)
	inv := inventory.New()
	for _, k := range inventory.AllKinds() {
		inv.Loaded[k] = true
	}
	inv.ServerVersion = "v1.37.2"
	var fixtures []fixture
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		versions, err := os.ReadDir(filepath.Join(root, string(level)))
		if err != nil {
			t.Fatal(err)
		}
		for _, vd := range versions {
			version, err := api.ParseVersion(vd.Name())
			if err != nil {
				t.Fatalf("fixture directory %s: %v", vd.Name(), err)
			}
			ns := fmt.Sprintf("fx-%s-%s", level, strings.ReplaceAll(vd.Name(), ".", "-"))
			inv.Namespaces = append(inv.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
				EnforceLabel: string(level), EnforceVersionLabel: vd.Name(),
			}}})
			for _, verdict := range []string{"pass", "fail"} {
				dir := filepath.Join(root, string(level), vd.Name(), verdict)
				files, err := os.ReadDir(dir)
				if os.IsNotExist(err) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					b, err := os.ReadFile(filepath.Join(dir, f.Name()))
					if err != nil {
						t.Fatal(err)
					}
					var pod corev1.Pod
					if err := yaml.UnmarshalStrict(b, &pod); err != nil {
						t.Fatalf("%s/%s: %v", dir, f.Name(), err)
					}
					pod.Namespace = ns
					pod.Name = verdict + "-" + strings.TrimSuffix(f.Name(), ".yaml")
					inv.Pods = append(inv.Pods, inventory.PodOf(&pod))
					fixtures = append(fixtures, fixture{
						level: level, version: version, pass: verdict == "pass", file: filepath.Join(string(level), vd.Name(), verdict, f.Name()),
						check: fixtureName.FindStringSubmatch(f.Name())[1], pod: pod.Name,
					})
				}
			}
		}
	}
	if len(fixtures) < 1000 {
		t.Fatalf("found only %d fixtures under %s", len(fixtures), root)
	}

	overriders := overridingChecks()
	a := Analyze(inv)
	// Many fixtures differ only in one field: sharing must tell them apart.
	assertJudgedAlone(t, a)
	var passed, failed int
	for _, fx := range fixtures {
		v, ok := a.Verdict("Pod", "fx-"+string(fx.level)+"-"+strings.ReplaceAll(fx.version.String(), ".", "-"), fx.pod)
		if !ok {
			t.Fatalf("%s: no verdict", fx.file)
		}
		if v.Version != fx.version.String() {
			t.Fatalf("%s: judged at %s, want the namespace's pinned %s", fx.file, v.Version, fx.version)
		}
		allowed := api.CompareLevels(v.Level, fx.level) >= 0
		if allowed != fx.pass {
			t.Errorf("%s: plugin says level %s, upstream fixture says pass=%v at %s", fx.file, v.Level, fx.pass, fx.level)
			continue
		}
		if fx.pass {
			passed++
			continue
		}
		failed++
		vs := v.Baseline
		if fx.level == api.LevelRestricted {
			vs = v.Restricted
		}
		want := map[string]bool{fx.check: true}
		for _, o := range overriders[fx.check] {
			want[o] = true
		}
		found := false
		for _, vi := range vs {
			if vi.Check == "" {
				t.Errorf("%s: violation %q not attributed to a check", fx.file, vi.Reason)
			}
			if len(vi.Fields) == 0 {
				t.Errorf("%s: violation %s (%s) names no field to change", fx.file, vi.Check, vi.Detail)
			}
			if want[strings.ToLower(vi.Check)] {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: violations %+v do not include check %s", fx.file, vs, fx.check)
		}
	}
	if passed == 0 || failed == 0 {
		t.Fatalf("judged %d passing and %d failing fixtures; want both", passed, failed)
	}
	t.Logf("%d upstream fixtures agree (%d pass, %d fail)", len(fixtures), passed, failed)
}

// overridingChecks maps a baseline check (lower-cased, as in fixture names)
// to the restricted checks that replace it at the restricted level.
func overridingChecks() map[string][]string {
	out := map[string][]string{}
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			for _, o := range v.OverrideCheckIDs {
				out[strings.ToLower(string(o))] = append(out[strings.ToLower(string(o))], strings.ToLower(string(c.ID)))
			}
		}
	}
	return out
}
