// Package netpol holds the netpol checks.
package netpol

import "github.com/kubectl-harden/kubectl-harden/pkg/checks"

// Checks returns the netpol checks.
func Checks() []checks.Check { return nil }
