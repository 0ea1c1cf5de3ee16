// Package psa holds the psa checks.
package psa

import "github.com/kubectl-harden/kubectl-harden/pkg/checks"

// Checks returns the psa checks.
func Checks() []checks.Check { return nil }
