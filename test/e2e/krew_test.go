package e2e

// The krew path users take: a release archive built by the release config
// (.goreleaser.yaml), the manifests that name it (plugins/harden.yaml for this
// repository's own index, .krew.yaml for krew-index), validate-krew-manifest,
// `kubectl krew install` into a temporary KREW_ROOT, then the installed plugin
// through the real kubectl: `kubectl harden version` and shell completion
// through `kubectl __complete harden ...`. krew, validate-krew-manifest and
// goreleaser come from test/tools/release, built into test/bin.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
)

// krewPlugin is the part of a krew manifest (krew.googlecontainertools.github.com/v1alpha2
// Plugin) these tests compare. krew's own types are not imported: its module
// pins k8s.io/client-go v11, which would replace this module's client-go.
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string         `json:"version"`
		Homepage         string         `json:"homepage,omitempty"`
		ShortDescription string         `json:"shortDescription"`
		Description      string         `json:"description,omitempty"`
		Caveats          string         `json:"caveats,omitempty"`
		Platforms        []krewPlatform `json:"platforms"`
	} `json:"spec"`
}

type krewPlatform struct {
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files,omitempty"`
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
}

func (p krewPlatform) target() string {
	return p.Selector.MatchLabels["os"] + "/" + p.Selector.MatchLabels["arch"]
}

// platform returns the manifest's platform for os/arch.
func (m *krewPlugin) platform(t *testing.T, target string) *krewPlatform {
	t.Helper()
	for i := range m.Spec.Platforms {
		if m.Spec.Platforms[i].target() == target {
			return &m.Spec.Platforms[i]
		}
	}
	t.Fatalf("manifest %s %s has no platform for %s", m.Metadata.Name, m.Spec.Version, target)
	return nil
}

func readKrewManifest(t *testing.T, file string) *krewPlugin {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parseKrewManifest(t, file, b)
}

func parseKrewManifest(t *testing.T, name string, b []byte) *krewPlugin {
	t.Helper()
	var m krewPlugin
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		t.Fatalf("%s is not a krew manifest: %v", name, err)
	}
	return &m
}

// writeKrewManifest writes m as DIR/harden.yaml: krew takes the plugin name from the file name.
func writeKrewManifest(t *testing.T, m *krewPlugin) string {
	t.Helper()
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), m.Metadata.Name+".yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// tool runs a program with the environment given (and the machine's PATH
// unless env sets one), failing the test when it cannot run or exits non-zero.
func tool(t *testing.T, dir string, env []string, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// buildReleaseTools builds krew, validate-krew-manifest and goreleaser into
// test/bin; test/tools/release/build.sh does nothing when they are current.
func buildReleaseTools(t *testing.T) {
	t.Helper()
	tool(t, root, []string{"BIN_DIR=" + env.BinDir}, "bash", filepath.Join(root, "test", "tools", "release", "build.sh"))
}

func validateKrewManifest(t *testing.T, file string) {
	t.Helper()
	// -skip-install: the manifests name archives on GitHub, which these tests
	// cannot download; the install is exercised below with --archive instead.
	_, stderr := tool(t, root, nil, filepath.Join(env.BinDir, "validate-krew-manifest"), "-manifest", file, "-skip-install")
	if !strings.Contains(stderr, "structural validation OK") {
		t.Fatalf("validate-krew-manifest %s said:\n%s", file, stderr)
	}
}

// releaseSnapshot is a release built locally by goreleaser from .goreleaser.yaml.
type releaseSnapshot struct {
	Version  string // without the leading v, as goreleaser's {{ .Version }}
	Archive  string // this machine's archive
	Sha256   string
	Manifest string // the krew manifest goreleaser rendered (dist/krew/harden.yaml)
}

// buildSnapshot runs `goreleaser release --snapshot` on .goreleaser.yaml with
// two changes for speed, both in what is built and not in what is packed:
// only this machine's os/arch (the e2e installs only that one), and without
// the release's -trimpath and CGO_ENABLED=0, so the build reuses the compiled
// packages of the plugin binary TestMain just built instead of compiling the
// whole dependency tree a second time.
func buildSnapshot(t *testing.T) releaseSnapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	builds, _ := cfg["builds"].([]any)
	if len(builds) == 0 {
		t.Fatal(".goreleaser.yaml has no builds")
	}
	for _, b := range builds {
		build := b.(map[string]any)
		build["goos"] = []string{runtime.GOOS}
		build["goarch"] = []string{runtime.GOARCH}
		delete(build, "flags")
		delete(build, "env")
	}
	work := t.TempDir()
	dist := filepath.Join(work, "dist")
	cfg["dist"] = dist
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(work, "goreleaser.yaml")
	if err := os.WriteFile(config, out, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tool(t, root, nil, filepath.Join(env.BinDir, "goreleaser"), "release", "--snapshot", "--clean", "--skip=ko", "--config", config)
	t.Logf("goreleaser snapshot for %s/%s took %v", runtime.GOOS, runtime.GOARCH, time.Since(start).Round(time.Second))

	var meta struct {
		Version string `json:"version"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	var artifacts []struct {
		Path   string         `json:"path"`
		Type   string         `json:"type"`
		Goos   string         `json:"goos"`
		Goarch string         `json:"goarch"`
		Extra  map[string]any `json:"extra"`
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &artifacts)
	s := releaseSnapshot{Version: meta.Version, Manifest: filepath.Join(dist, "krew", "harden.yaml")}
	for _, a := range artifacts {
		if a.Type == "Archive" && a.Goos == runtime.GOOS && a.Goarch == runtime.GOARCH {
			s.Archive = a.Path
			s.Sha256 = strings.TrimPrefix(fmt.Sprint(a.Extra["Checksum"]), "sha256:")
		}
	}
	if s.Version == "" || s.Archive == "" {
		t.Fatalf("goreleaser made no archive for %s/%s (version %q)", runtime.GOOS, runtime.GOARCH, s.Version)
	}
	if got := fileSha256(t, s.Archive); got != s.Sha256 {
		t.Fatalf("archive %s has sha256 %s, goreleaser says %s", s.Archive, got, s.Sha256)
	}
	return s
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func fileSha256(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// notBuilt stands for the sha256 of an archive these tests do not build (only
// this machine's is). It is the sha256 of nothing, and has letters: an
// all-digit value would read as a YAML number in the rendered template.
const notBuilt = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// renderKrewTemplate renders .krew.yaml as krew-release-bot does for a tag:
// addURIAndSha expands the URL template and adds the archive's sha256 (here
// from sha, where the bot downloads the archive).
func renderKrewTemplate(t *testing.T, tag string, sha func(uri string) string) []byte {
	t.Helper()
	file := filepath.Join(root, ".krew.yaml")
	tmpl, err := template.New(filepath.Base(file)).Funcs(template.FuncMap{
		"addURIAndSha": func(uri, tag string) (string, error) {
			var b strings.Builder
			inner, err := template.New("uri").Parse(uri)
			if err != nil {
				return "", err
			}
			if err := inner.Execute(&b, struct{ TagName, Version string }{tag, strings.TrimPrefix(tag, "v")}); err != nil {
				return "", err
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", b.String(), sha(b.String())), nil
		},
	}).ParseFiles(file)
	if err != nil {
		t.Fatalf("parse .krew.yaml: %v", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, struct{ TagName string }{tag}); err != nil {
		t.Fatalf("render .krew.yaml: %v", err)
	}
	return out.Bytes()
}

// sameListing compares what krew shows of a plugin: every manifest of it must say the same.
func sameListing(t *testing.T, what string, got, want *krewPlugin) {
	t.Helper()
	pairs := []struct{ field, got, want string }{
		{"apiVersion", got.APIVersion, want.APIVersion},
		{"kind", got.Kind, want.Kind},
		{"name", got.Metadata.Name, want.Metadata.Name},
		{"homepage", got.Spec.Homepage, want.Spec.Homepage},
		{"shortDescription", got.Spec.ShortDescription, want.Spec.ShortDescription},
		{"description", got.Spec.Description, want.Spec.Description},
		{"caveats", got.Spec.Caveats, want.Spec.Caveats},
	}
	for _, p := range pairs {
		if p.got != p.want {
			t.Errorf("%s: %s differs from plugins/harden.yaml:\n got %q\nwant %q", what, p.field, p.got, p.want)
		}
	}
}

// archiveName is the file name a manifest's platform points at, written for
// another version so manifests of different versions can be compared.
func archiveName(p *krewPlatform, version, asVersion string) string {
	return strings.ReplaceAll(path.Base(p.URI), version, asVersion)
}

func TestKrew(t *testing.T) {
	buildReleaseTools(t)
	committedFile := filepath.Join(root, "plugins", "harden.yaml")
	committed := readKrewManifest(t, committedFile)
	target := runtime.GOOS + "/" + runtime.GOARCH

	t.Run("validate-krew-manifest plugins/harden.yaml", func(t *testing.T) {
		validateKrewManifest(t, committedFile)
		var targets []string
		for _, p := range committed.Spec.Platforms {
			targets = append(targets, p.target())
		}
		slices.Sort(targets)
		want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
		if !slices.Equal(targets, want) {
			t.Errorf("platforms %v, want %v", targets, want)
		}
	})

	t.Run(".krew.yaml renders plugins/harden.yaml", func(t *testing.T) {
		// The bot renders the tag's archives; rendered for the committed
		// version, every platform must name the same archive and binary.
		uris := map[string]bool{}
		for _, p := range committed.Spec.Platforms {
			uris[p.URI] = true
		}
		rendered := renderKrewTemplate(t, committed.Spec.Version, func(uri string) string {
			if !uris[uri] {
				t.Errorf(".krew.yaml names %s, which plugins/harden.yaml does not", uri)
			}
			return notBuilt
		})
		m := parseKrewManifest(t, ".krew.yaml", rendered)
		validateKrewManifest(t, writeKrewManifest(t, m))
		sameListing(t, ".krew.yaml", m, committed)
		if m.Spec.Version != committed.Spec.Version || len(m.Spec.Platforms) != len(committed.Spec.Platforms) {
			t.Fatalf(".krew.yaml renders version %s with %d platforms, plugins/harden.yaml has %s with %d",
				m.Spec.Version, len(m.Spec.Platforms), committed.Spec.Version, len(committed.Spec.Platforms))
		}
		for _, p := range m.Spec.Platforms {
			c := committed.platform(t, p.target())
			if p.URI != c.URI || p.Bin != c.Bin {
				t.Errorf("%s: .krew.yaml has %s (bin %s), plugins/harden.yaml %s (bin %s)", p.target(), p.URI, p.Bin, c.URI, c.Bin)
			}
			var from []string
			for _, f := range p.Files {
				from = append(from, f.From)
			}
			for _, want := range []string{p.Bin, "LICENSE", "kubectl_complete-harden"} {
				if !slices.Contains(from, want) {
					t.Errorf("%s: .krew.yaml does not extract %s (files %v)", p.target(), want, from)
				}
			}
		}
	})

	t.Run("released binary links no test machinery", func(t *testing.T) {
		// The e2e builds only this machine's archive; a test-only import in
		// the plugin's packages (envtest does not build for windows) would
		// break the other release targets, so the dependency list is checked
		// for every target the release builds.
		for _, goos := range []string{"linux", "darwin", "windows"} {
			out, _ := tool(t, root, []string{"GOOS=" + goos, "GOARCH=arm64"}, "go", "list", "-deps", ".")
			for _, pkg := range strings.Fields(out) {
				for _, banned := range []string{"sigs.k8s.io/controller-runtime/", "github.com/creack/pty", "k8s.io/client-go/kubernetes/fake"} {
					if strings.HasPrefix(pkg, banned) {
						t.Errorf("GOOS=%s: the plugin binary links %s", goos, pkg)
					}
				}
			}
		}
	})

	rel := buildSnapshot(t)
	archive := filepath.Base(rel.Archive)

	t.Run("goreleaser renders plugins/harden.yaml", func(t *testing.T) {
		m := readKrewManifest(t, rel.Manifest)
		validateKrewManifest(t, rel.Manifest)
		sameListing(t, "goreleaser's krew manifest", m, committed)
		if m.Spec.Version != "v"+rel.Version {
			t.Errorf("goreleaser's manifest has version %s, the snapshot is %s", m.Spec.Version, rel.Version)
		}
		p, c := m.platform(t, target), committed.platform(t, target)
		if p.Sha256 != rel.Sha256 || path.Base(p.URI) != archive || p.Bin != c.Bin {
			t.Errorf("goreleaser's manifest names %s (sha256 %s, bin %s); the archive is %s (%s), the committed bin %s",
				p.URI, p.Sha256, p.Bin, archive, rel.Sha256, c.Bin)
		}
		if got := archiveName(c, committed.Spec.Version, "v"+rel.Version); got != archive {
			t.Errorf("plugins/harden.yaml names %s for %s; at this version goreleaser names it %s", path.Base(c.URI), target, archive)
		}
	})

	t.Run("install plugins/harden.yaml with the local archive", func(t *testing.T) {
		// The committed manifest names the published archive; krew checks
		// the sha256 even with --archive, so the local archive's goes in its place.
		local := *committed
		local.Spec.Platforms = slices.Clone(committed.Spec.Platforms)
		local.platform(t, target).Sha256 = rel.Sha256
		file := writeKrewManifest(t, &local)
		validateKrewManifest(t, file)
		k := krewInstall(t, file, rel.Archive)
		k.checkVersion(t, rel.Version)
		k.checkCompletion(t)
	})

	t.Run("install the krew-index manifest rendered from .krew.yaml", func(t *testing.T) {
		tag := "v" + rel.Version
		rendered := renderKrewTemplate(t, tag, func(uri string) string {
			if path.Base(uri) == archive {
				return rel.Sha256
			}
			return notBuilt
		})
		m := parseKrewManifest(t, ".krew.yaml", rendered)
		if got := path.Base(m.platform(t, target).URI); got != archive {
			t.Fatalf(".krew.yaml names %s for %s at %s; goreleaser built %s", got, target, tag, archive)
		}
		file := writeKrewManifest(t, m)
		validateKrewManifest(t, file)
		k := krewInstall(t, file, rel.Archive)
		k.checkVersion(t, rel.Version)
	})
}

// krewEnv is a KREW_ROOT with the plugin installed, and the environment that runs kubectl with it.
type krewEnv struct {
	root    string
	env     []string
	caveats string
}

// krewInstall installs the manifest with `kubectl krew install --archive` into
// a new KREW_ROOT, and checks what krew put in place.
func krewInstall(t *testing.T, manifest, archive string) *krewEnv {
	t.Helper()
	k := &krewEnv{root: t.TempDir()}
	// PATH: krew's bin first, so `kubectl harden` is the installed plugin and
	// not one built from source elsewhere; then kubectl and kubectl-krew.
	k.env = []string{
		"KREW_ROOT=" + k.root,
		"HOME=" + t.TempDir(),
		"KUBECONFIG=" + env.Kubeconfig,
		"NO_COLOR=1",
		"PATH=" + strings.Join([]string{filepath.Join(k.root, "bin"), env.BinDir, os.Getenv("PATH")}, string(os.PathListSeparator)),
	}
	stdout, stderr := tool(t, root, k.env, filepath.Join(env.BinDir, "kubectl"), "krew", "install", "--manifest="+manifest, "--archive="+archive)
	out := stdout + stderr
	if !strings.Contains(out, "Installed plugin: harden") {
		t.Fatalf("kubectl krew install said:\n%s", out)
	}
	m := readKrewManifest(t, manifest)
	k.caveats = m.Spec.Caveats
	if !strings.Contains(out, strings.SplitN(strings.TrimSpace(m.Spec.Caveats), "\n", 2)[0]) {
		t.Errorf("krew did not show the caveats:\n%s", out)
	}
	store := filepath.Join(k.root, "store", "harden", m.Spec.Version)
	for _, f := range []string{"LICENSE", "kubectl_complete-harden", "kubectl-harden"} {
		st, err := os.Stat(filepath.Join(store, f))
		if err != nil {
			t.Errorf("krew did not extract %s: %v", f, err)
			continue
		}
		if f != "LICENSE" && st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable (%v)", f, st.Mode())
		}
	}
	return k
}

func (k *krewEnv) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	stdout, _ := tool(t, root, k.env, filepath.Join(env.BinDir, "kubectl"), args...)
	return stdout
}

func (k *krewEnv) checkVersion(t *testing.T, version string) {
	t.Helper()
	out := k.kubectl(t, "harden", "version")
	if !strings.HasPrefix(out, "kubectl-harden v"+version+" ") {
		t.Errorf("kubectl harden version = %q, want the release build v%s", out, version)
	}
}

// checkCompletion puts the completion shim on PATH as the caveats tell users
// to, then completes through kubectl, which runs kubectl_complete-harden.
func (k *krewEnv) checkCompletion(t *testing.T) {
	t.Helper()
	var steps []string
	lines := strings.Split(k.caveats, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "cp ") {
			step := strings.TrimSpace(lines[i])
			for strings.HasSuffix(step, "\\") && i+1 < len(lines) {
				i++
				step = strings.TrimSuffix(step, "\\") + " " + strings.TrimSpace(lines[i])
			}
			steps = append(steps, step)
		}
	}
	if len(steps) != 1 {
		t.Fatalf("the caveats should give one cp command for the completion shim, found %q", steps)
	}
	tool(t, root, k.env, "sh", "-c", steps[0])

	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	check := reg.All()[0].ID
	cfg, err := clientcmd.LoadFromFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"commands", []string{""}, []string{"rbac", "netpol", "psa", "workload", "checks", "fix", "version"}},
		{"subcommands", []string{"rbac", ""}, []string{"who-can"}},
		{"flags", []string{"--sev"}, []string{"--severity"}},
		{"check IDs", []string{"--check", check[:len(check)-1]}, []string{check}},
		{"namespaces from the cluster", []string{"rbac", "-n", ""}, []string{"analytics", "ci", "legacy", "shop"}},
		{"contexts from the kubeconfig", []string{"--context", ""}, []string{cfg.CurrentContext}},
	}
	for _, tt := range tests {
		t.Run("complete "+tt.name, func(t *testing.T) {
			out := k.kubectl(t, append([]string{"__complete", "harden"}, tt.args...)...)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			var got []string
			for _, l := range lines[:len(lines)-1] {
				got = append(got, strings.SplitN(l, "\t", 2)[0])
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("kubectl __complete harden %q = %v, lacks %q", tt.args, got, w)
				}
			}
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, ":") {
				t.Errorf("no completion directive, last line %q", last)
			}
		})
	}
}
