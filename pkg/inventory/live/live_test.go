package live

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-harden/kubectl-harden/pkg/inventory"
)

// A list read page by page is sized once from the server's count of the
// items left, its objects trimmed and sharing their equal parts; when the
// continue token expires, one unpaginated list is read instead.
func TestListPages(t *testing.T) {
	const total = 5
	pod := func(i int) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("web-", i), Labels: map[string]string{"app": "web"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	}
	for _, expire := range []bool{false, true} {
		var calls []metav1.ListOptions
		list := func(_ context.Context, o metav1.ListOptions) (*corev1.PodList, error) {
			calls = append(calls, o)
			if o.Limit == 0 { // the unpaginated list
				l := &corev1.PodList{}
				for i := range total {
					l.Items = append(l.Items, pod(i))
				}
				return l, nil
			}
			from, _ := strconv.Atoi(o.Continue)
			if expire && from > 0 {
				return nil, apierrors.NewResourceExpired("the continue token expired")
			}
			l := &corev1.PodList{}
			for i := from; i < min(from+int(o.Limit), total); i++ {
				l.Items = append(l.Items, pod(i))
			}
			if next := from + len(l.Items); next < total {
				left := int64(total - next)
				l.Continue, l.RemainingItemCount = strconv.Itoa(next), &left
			}
			return l, nil
		}
		l := &lister{pageSize: 2, sh: &inventory.Sharer{}}
		got, err := listPages(context.Background(), l, list, func(l *corev1.PodList) ([]corev1.Pod, string) { return l.Items, l.Continue },
			func(o *corev1.Pod) metav1.Object { return o })
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != total || cap(got) != total {
			t.Errorf("expire=%v: %d pods in room for %d, want %d in %d", expire, len(got), cap(got), total, total)
		}
		for i, p := range got {
			if p.Name != fmt.Sprint("web-", i) || p.ManagedFields != nil || !reflect.DeepEqual(p.Labels, map[string]string{"app": "web"}) {
				t.Errorf("expire=%v: pod %d = %+v", expire, i, p.ObjectMeta)
			}
			if reflect.ValueOf(p.Labels).Pointer() != reflect.ValueOf(got[0].Labels).Pointer() {
				t.Errorf("expire=%v: pod %d holds its own copy of equal labels", expire, i)
			}
		}
		if len(calls) != 3 { // three pages, or a page, the expired token and the whole list
			t.Errorf("expire=%v: %d list calls, want 3", expire, len(calls))
		}
	}
}
