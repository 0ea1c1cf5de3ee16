// Package all assembles the registry of every domain's checks.
package all

import (
	"github.com/kubectl-harden/kubectl-harden/pkg/checks"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/netpol"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/psa"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/rbac"
	"github.com/kubectl-harden/kubectl-harden/pkg/checks/workload"
)

// Registry returns every registered check.
func Registry() (*checks.Registry, error) {
	return checks.NewRegistry(rbac.Checks(), netpol.Checks(), psa.Checks(), workload.Checks())
}
