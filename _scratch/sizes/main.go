package main

import (
	"fmt"
	"unsafe"

	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	fmt.Println("Pod", unsafe.Sizeof(inventory.Pod{}), "PodSpec", unsafe.Sizeof(corev1.PodSpec{}), "ObjectMeta", unsafe.Sizeof(metav1.ObjectMeta{}), "Finding", unsafe.Sizeof(finding.Finding{}), "Container", unsafe.Sizeof(corev1.Container{}))
}
