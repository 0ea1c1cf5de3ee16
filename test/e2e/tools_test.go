package e2e

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// aptMu serialises the apt-get runs of one test binary.
var aptMu sync.Mutex

// debianTool returns the path of a program the test needs from a Debian
// package (graphviz's dot, chromium), installing the package with apt-get
// when the program is missing, as CI does for what its tests need. When the
// package cannot be installed it fails the test under CI
// (HARDEN_REQUIRE_TOOLS, set by .ci/run: a skipped test proves nothing
// there), and elsewhere skips it saying why.
func debianTool(t *testing.T, program string, packages ...string) string {
	t.Helper()
	tt := toolT{t}
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	aptMu.Lock()
	defer aptMu.Unlock()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		tt.Skipf("%s is not installed and there is no apt-get to install Debian's %s: install it to run this test", program, strings.Join(packages, " "))
	}
	if os.Geteuid() != 0 {
		tt.Skipf("%s is not installed, and installing Debian's %s needs root: run apt-get install %s", program, strings.Join(packages, " "), strings.Join(packages, " "))
	}
	install := func() ([]byte, error) {
		cmd := exec.Command(apt, append([]string{"install", "-y", "--no-install-recommends"}, packages...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	out, err := install()
	if err != nil {
		// The package lists may be missing or stale on a fresh machine.
		if upd, uerr := exec.Command(apt, "update").CombinedOutput(); uerr != nil {
			tt.Skipf("%s is not installed and apt-get update failed: %v\n%s", program, uerr, upd)
		}
		out, err = install()
	}
	if err != nil {
		tt.Skipf("%s is not installed and apt-get install %s failed: %v\n%s", program, strings.Join(packages, " "), err, out)
	}
	p, err := exec.LookPath(program)
	if err != nil {
		tt.Skipf("apt-get installed %s but %s is not on PATH", strings.Join(packages, " "), program)
	}
	return p
}

// toolT turns the Skipf of a test that cannot get its tools into a failure
// when HARDEN_REQUIRE_TOOLS is set.
type toolT struct{ *testing.T }

func (t toolT) Skipf(format string, args ...any) {
	t.Helper()
	if os.Getenv("HARDEN_REQUIRE_TOOLS") != "" {
		t.T.Fatalf(format+" (HARDEN_REQUIRE_TOOLS is set: the tools are required)", args...)
	}
	t.T.Skipf(format, args...)
}
