package bench

import (
	"os"
	"runtime"
	"testing"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

// synthDir writes the synthetic cluster of HARDEN_BENCH_SIZE (S unless set)
// once per benchmark into a temporary directory, or returns HARDEN_BENCH_DIR.
func synthDir(b *testing.B) string {
	b.Helper()
	if dir := os.Getenv("HARDEN_BENCH_DIR"); dir != "" {
		return dir // written before by test/bench/scale.sh or cmd/synth
	}
	name := os.Getenv("HARDEN_BENCH_SIZE")
	if name == "" {
		name = "S"
	}
	size, err := synth.Named(name)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := synth.WriteDir(dir, size); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkSynthLoad reads the synthetic cluster's `kubectl get -A -o yaml`
// files, and reports the heap the inventory keeps (MB-live).
func BenchmarkSynthLoad(b *testing.B) {
	dir := synthDir(b)
	b.ResetTimer()
	var inv *inventory.Inventory
	for b.Loop() {
		var err error
		if inv, err = inventory.Read([]string{dir}, nil, inventory.ReadOptions{Complete: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "MB-live")
	runtime.KeepAlive(inv)
}

// BenchmarkSynthAudit loads the synthetic cluster and runs every check.
func BenchmarkSynthAudit(b *testing.B) {
	dir := synthDir(b)
	reg, err := all.Registry()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		inv, err := inventory.Read([]string{dir}, nil, inventory.ReadOptions{Complete: true})
		if err != nil {
			b.Fatal(err)
		}
		res := checks.Run(inv, reg.All())
		if len(res.Ran) == 0 {
			b.Fatal("no check ran")
		}
	}
}
