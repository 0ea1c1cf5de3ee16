package main

import (
	"fmt"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	fmt.Println("Pod", unsafe.Sizeof(corev1.Pod{}), "Spec", unsafe.Sizeof(corev1.PodSpec{}), "Status", unsafe.Sizeof(corev1.PodStatus{}), "Meta", unsafe.Sizeof(metav1.ObjectMeta{}), "Container", unsafe.Sizeof(corev1.Container{}))
}
