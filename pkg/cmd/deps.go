package cmd

import (
	_ "github.com/creack/pty"
	_ "github.com/fatih/color"
	_ "github.com/pmezard/go-difflib/difflib"
	_ "github.com/spf13/cobra"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	_ "k8s.io/component-helpers/auth/rbac/validation"
	_ "k8s.io/kubectl/pkg/cmd/util/editor"
	_ "k8s.io/kubectl/pkg/util/templates"
	_ "k8s.io/pod-security-admission/policy"
	_ "sigs.k8s.io/controller-runtime/pkg/envtest"
)
