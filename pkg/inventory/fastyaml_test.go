package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

// agree checks the fast conversion against sigs.k8s.io/yaml: when the fast
// path takes a document, the general one must read it too, into the same
// value (numbers compared as written, so 0x1f must come out as 31).
func agree(t testing.TB, doc []byte) (fast bool) {
	t.Helper()
	js, ok := fastYAMLToJSON(doc)
	if !ok {
		return false
	}
	want, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("the fast path read a document the general reader rejects (%v):\n%s\nfast JSON: %s", err, doc, js)
	}
	if !json.Valid(js) {
		t.Fatalf("the fast path wrote invalid JSON for\n%s\n%s", doc, js)
	}
	if g, w := generic(t, js), generic(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("the fast path disagrees for\n%s\nfast:    %s\ngeneral: %s", doc, js, want)
	}
	return true
}

func generic(t testing.TB, js []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return v
}

// fastYAMLCases are the shapes the fast path reads or must leave alone.
var fastYAMLCases = []string{
	"a: 1\n",
	"a: 1",
	"a: -5\nb: +5\nc: 007\nd: 0x1F\ne: 1_000\nf: 0o17\ng: -0\nh: 08\ni: 99999999999999999999\nj: 18446744073709551615\n",
	"a: 1.5\n", "a: 1e3\n", "a: .5\n", "a: .inf\n", "a: -.Inf\n", "a: .nan\n", "a: 0b101\n", "a: -0b101\n",
	"a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: N\ng: True\nh: ~\ni: null\nj: Null\nk:\n",
	"a: 2026-10-01\nb: 2026-10-01T12:00:00Z\nc: 500m\nd: 25%\ne: 9fe262d4-faf0\nf: 1.2.3\ng: +\nh: v1\n",
	"8080: a\ntrue: b\nyes: c\n0x10: d\n",
	"~: a\n", "null: a\n", "1.5: a\n", "<<: {}\n",
	"a: \"q\\\"u\\\\o\\nt\\te\\u00e9\\x41\\' \\U0001F600\"\nb: 'it''s'\nc: ''\nd: \"\"\ne: '#not a comment'\n",
	"a: \"\\uD800\"\n", "a: \"\\q\"\n", "a: \"unterminated\n", "a: 'multi\n  line'\n", "a: \"multi\n  line\"\n",
	"a: b # comment\nc: d#not\ne: 'x' # c\nf: \"y\"   # c\n# full line\n  # indented comment\ng: h\t# tab comment\n",
	"a:\n  b:\n    c: 1\n  d: [ ]\ne: {}\nf: []\ng: {a: 1}\nh: [1, 2]\n",
	"a:\n- 1\n- two\n-\n- x: 1\n  y: 2\n- - nested\n",
	"a:\n- 1\n- two\n-\n- x: 1\n  y: 2\n",
	"a:\n  - 1\n  - 2\nb: 3\n",
	"list:\n- name: a\n  items:\n  - x\n  - y\n  more: 1\n- name: b\n",
	"a: |\n  line one\n  line two\n\n  after blank\n\n\nb: 1\n",
	"a: |-\n  stripped\n\nb: 1\n",
	"a: |+\n  kept\n\nb: 1\n",
	"a: |2\n   indented\n", "a: >\n  folded\n  text\n", "a: |\n", "a: |\nb: 1\n",
	"a: |\n    deep\n  shallow\n", "a: |\n  x\n    more indented\n  back\n", "a: |\n  \n  x\n", "a: |\n     \n  x\n",
	"a: |\n  last line without break",
	"- a\n- b\n", "scalar\n", "a: b: c\n", "a: - b\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "? a\n: b\n",
	"a: plain\n  continued\n", "a:\n  plain\n", "a:\n  plain\n  continued\n",
	"a: 1\na: 2\n", "a: 1\n\"a\": 2\n",
	"\ta: 1\n", "a:\n\tb: 1\n", "a:\tb\n", "a: b\tc\n", "a: x\r\nb: y\r\n", "a: é\n", "a: \x01\n",
	"a: 1\n...\n", "%YAML 1.1\n---\na: 1\n", "a: `x`\n", "a: @x\n", "a: %x\n", "a: -x\nb: ?x\nc: :x\nd: -\n",
	"key with spaces: v\n\"quoted key\": v\n'single': v\nf:metadata:\n  .: {}\n  f:labels: {}\n",
	"a:\n  b: 1\n c: 2\n", "a: 1\n  b: 2\n", "a:\n    b: 1\n  c: 2\n",
	"spec:\n  containers:\n  - name: c\n    args:\n    - --flag=x\n    - \"--quoted\"\n    env:\n    - name: A\n      value: \"1\"\n",
	"a: \"x\": y\n", "- \"a\": 1\n", "a:\n- |\n  text\n- b\n",
}

func TestFastYAMLAgrees(t *testing.T) {
	for _, c := range fastYAMLCases {
		agree(t, []byte(c))
	}
	// Shapes the fast path must take (the speed of an offline audit depends on it).
	for _, c := range []string{
		"a: 1\n", "a: \"q\\\"u\\\\o\\nt\\te\\u00e9\\x41\\' \\U0001F600\"\nb: 'it''s'\nc: ''\nd: \"\"\ne: '#not a comment'\n",
		"a:\n- 1\n- two\n-\n- x: 1\n  y: 2\n", "a: |\n  line one\n  line two\n\n  after blank\n\n\nb: 1\n",
		"a: |-\n  stripped\n\nb: 1\n", "list:\n- name: a\n  items:\n  - x\n  - y\n  more: 1\n- name: b\n",
		"8080: a\ntrue: b\nno: c\n0x10: d\n",
	} {
		if !agree(t, []byte(c)) {
			t.Errorf("the fast path left to the general reader:\n%s", c)
		}
	}
}

// TestFastYAMLAgreesOnInputs compares the two on every YAML file of the
// repository's test data and on a synthetic cluster, a List item at a time
// as the loader reads them; on kubectl's output the fast path must take
// (nearly) every document.
func TestFastYAMLAgreesOnInputs(t *testing.T) {
	var files []string
	for _, root := range []string{"../..", "../../test"} {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() && (d.Name() == "bin" || strings.HasPrefix(d.Name(), ".") && path != root) {
				if d != nil && d.IsDir() && path != root {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
				files = append(files, path)
			}
			return nil
		})
	}
	// CRD manifests with long descriptions, block scalars and nested schemas.
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/network-policy-api").Output(); err == nil {
		crds, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "*", "*.yaml"))
		files = append(files, crds...)
	} else {
		t.Logf("no CRD manifests from the module cache: %v", err)
	}
	dir := t.TempDir()
	size, err := synth.Named("ns4")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteDir(dir, size); err != nil {
		t.Fatal(err)
	}
	synthFiles, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	count := func(files []string) (docs, fast int) {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_ = splitStream(f, bytes.NewReader(data), func(d rawDoc) bool {
				if d.isJSON || d.hadItems {
					return true
				}
				docs++
				if agree(t, d.data) {
					fast++
				}
				return true
			})
		}
		return docs, fast
	}
	docs, fast := count(files)
	t.Logf("test data: %d files, %d documents, %d read by the fast path", len(files), docs, fast)
	if docs < 100 {
		t.Fatalf("only %d documents in the test data: the walk is broken", docs)
	}
	docs, fast = count(synthFiles)
	t.Logf("synthetic cluster: %d documents, %d read by the fast path", docs, fast)
	if fast < docs*99/100 {
		t.Errorf("the fast path took %d of %d documents of kubectl's shape, want nearly all", fast, docs)
	}
}

func FuzzFastYAML(f *testing.F) {
	for _, c := range fastYAMLCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		agree(t, doc)
	})
}

// TestFastYAMLSameInventory reads the repository's dumps and a synthetic
// cluster with and without the one-pass reader: every object must be equal.
func TestFastYAMLSameInventory(t *testing.T) {
	dir := t.TempDir()
	size, err := synth.Named("ns6")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.WriteDir(dir, size); err != nil {
		t.Fatal(err)
	}
	inputs := [][]string{{dir}}
	for _, f := range []string{"dump.yaml", "multi.yaml", "owners.yaml", "custom-resources.yaml", "customworkloads.yaml"} {
		inputs = append(inputs, []string{filepath.Join("testdata", f)})
	}
	for _, in := range inputs {
		fast, err := Read(in, nil, ReadOptions{Complete: true})
		if err != nil {
			t.Fatal(err)
		}
		fastYAML = false
		general, err := Read(in, nil, ReadOptions{Complete: true})
		fastYAML = true
		if err != nil {
			t.Fatal(err)
		}
		if fast.objects == 0 || !reflect.DeepEqual(fast, general) {
			t.Errorf("%v: the one-pass reader gives a different inventory (%d objects)", in, fast.objects)
		}
	}
}
