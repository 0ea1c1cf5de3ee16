// Package rbac holds the rbac checks.
package rbac

import "github.com/kubectl-harden/kubectl-harden/pkg/checks"

// Checks returns the rbac checks.
func Checks() []checks.Check { return nil }
