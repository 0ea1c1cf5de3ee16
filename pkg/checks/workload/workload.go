// Package workload holds the workload checks.
package workload

import "github.com/kubectl-harden/kubectl-harden/pkg/checks"

// Checks returns the workload checks.
func Checks() []checks.Check { return nil }
