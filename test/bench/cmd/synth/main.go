// Command synth writes a synthetic cluster as one `kubectl get KIND -A -o yaml`
// List per kind: go run ./test/bench/cmd/synth -size S -o DIR.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kubectl-harden/kubectl-harden/test/bench/synth"
)

func main() {
	size := flag.String("size", "S", "cluster size: S, M, or nsN for N namespaces")
	out := flag.String("o", "", "directory to write the KIND.yaml files into")
	flag.Parse()
	s, err := synth.Named(*size)
	if err == nil && *out == "" {
		err = fmt.Errorf("-o DIR is required")
	}
	if err == nil {
		var n int64
		if n, err = synth.WriteDir(*out, s); err == nil {
			fmt.Fprintf(os.Stderr, "wrote %s: %d namespaces, %d pods, %.1f MB\n", *out, s.Namespaces, s.Pods(), float64(n)/1e6)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}
