// Command kubectl-harden is the kubectl plugin `kubectl harden`: it audits a
// cluster or manifests against the CIS Kubernetes Benchmark, the NSA/CISA
// Kubernetes Hardening Guide and NIST SP 800-53/800-190, and walks a person
// through the fixes.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-harden/kubectl-harden/pkg/cmd"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cmd.Execute(streams, os.Args[1:]))
}
