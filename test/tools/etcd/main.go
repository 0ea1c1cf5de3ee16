// Command etcd is the etcd server the tests start beside kube-apiserver,
// built from the same module graph as k8s.io/kubernetes.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
