//go:build tools

// Package tools pins the programs that the tests run: a real kube-apiserver,
// etcd and kubectl at the Kubernetes version the plugin is built against.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
