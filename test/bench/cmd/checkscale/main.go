// Command checkscale times every check on two synthetic clusters, one a
// multiple of the other, and prints how each check's time grew against how
// the input grew: a check whose time grows much faster than its input is
// superlinear. Each check runs alone, in registry order, the fastest of
// -runs runs; the first check of a domain that reads the domain's analysis
// also pays for computing it (the analyses are computed again for each run).
// The garbage collector is off while a check runs: its cost grows with the
// heap a collection marks, the whole inventory, not with what the check does.
//
//	go run ./test/bench/cmd/checkscale -small ns100 -large ns400
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

func main() {
	fs := flag.NewFlagSet("checkscale", flag.ExitOnError)
	small := fs.String("small", "ns100", "the smaller cluster: S, M or nsN")
	large := fs.String("large", "ns400", "the larger cluster")
	runs := fs.Int("runs", 3, "runs of each check; the fastest counts")
	_ = fs.Parse(os.Args[1:])
	if err := run(*small, *large, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "checkscale:", err)
		os.Exit(1)
	}
}

type timing struct {
	objects int
	byCheck map[string]time.Duration
}

func run(small, large string, runs int) error {
	reg, err := all.Registry()
	if err != nil {
		return err
	}
	cs := reg.All()
	var t [2]timing
	for i, name := range []string{small, large} {
		if t[i], err = timeChecks(name, cs, runs); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	growth := float64(t[1].objects) / float64(t[0].objects)
	fmt.Printf("objects: %d (%s) -> %d (%s), x%.1f\n\n", t[0].objects, small, t[1].objects, large, growth)
	fmt.Printf("| check | %s | %s | growth |\n|---|---|---|---|\n", small, large)
	type row struct {
		id    string
		a, b  time.Duration
		ratio float64
	}
	var rows []row
	var sumA, sumB time.Duration
	for _, c := range cs {
		a, b := t[0].byCheck[c.ID], t[1].byCheck[c.ID]
		sumA, sumB = sumA+a, sumB+b
		if a < 200*time.Microsecond && b < time.Millisecond {
			continue // too fast to measure a ratio
		}
		rows = append(rows, row{c.ID, a, b, float64(b) / float64(max(a, time.Microsecond))})
	}
	slices.SortFunc(rows, func(x, y row) int { return cmp.Compare(y.ratio, x.ratio) })
	for _, r := range rows {
		mark := ""
		if r.ratio > 1.5*growth {
			mark = " (faster than the input)"
		}
		fmt.Printf("| %s | %s | %s | x%.1f%s |\n", r.id, r.a.Round(10*time.Microsecond), r.b.Round(10*time.Microsecond), r.ratio, mark)
	}
	fmt.Printf("| every check | %s | %s | x%.1f |\n", sumA.Round(time.Millisecond), sumB.Round(time.Millisecond), float64(sumB)/float64(sumA))
	return nil
}

// timeChecks writes the named cluster, reads it and times each check alone.
func timeChecks(name string, cs []checks.Check, runs int) (timing, error) {
	size, err := synth.Named(name)
	if err != nil {
		return timing{}, err
	}
	dir, err := os.MkdirTemp("", "checkscale-")
	if err != nil {
		return timing{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := synth.WriteDir(dir, size); err != nil {
		return timing{}, err
	}
	inv, err := inventory.Read([]string{dir}, nil, inventory.ReadOptions{Complete: true})
	if err != nil {
		return timing{}, err
	}
	out := timing{byCheck: map[string]time.Duration{}}
	for range inv.Objects() {
		out.objects++
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for range runs {
		inv.ResetMemo()
		for _, c := range cs {
			runtime.GC()
			start := time.Now()
			checks.Run(inv, []checks.Check{c})
			d := time.Since(start)
			if prev, ok := out.byCheck[c.ID]; !ok || d < prev {
				out.byCheck[c.ID] = d
			}
		}
	}
	return out, nil
}
