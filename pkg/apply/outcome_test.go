package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func TestStateOfErrors(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}
	refused := &url.Error{Op: "Patch", URL: "https://10.0.0.1:6443/apis", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name  string
		err   error
		state State
		lost  bool
	}{
		{name: "no error", err: nil, state: Applied},
		{name: "conflict", err: fmt.Errorf("patch x: %w", apierrors.NewConflict(gr, "x", errors.New("the object has been modified"))), state: Failed},
		{name: "forbidden", err: apierrors.NewForbidden(gr, "x", errors.New("no")), state: Failed},
		{name: "invalid", err: apierrors.NewInvalid(schema.GroupKind{Kind: "NetworkPolicy"}, "x", nil), state: Failed},
		{name: "internal error with a status", err: apierrors.NewInternalError(errors.New("etcd")), state: Failed},
		{name: "503 with a status", err: apierrors.NewServiceUnavailable("shutting down"), state: Failed},
		{name: "too many requests", err: apierrors.NewTooManyRequests("slow down", 1), state: Failed},
		{name: "server says timeout", err: apierrors.NewTimeoutError("request did not complete within 34s", 0), state: Unknown},
		{name: "server timeout", err: apierrors.NewServerTimeout(gr, "patch", 0), state: Unknown},
		{name: "502 page from a proxy", err: apierrors.NewGenericServerResponse(502, "PATCH", gr, "x", "<html>Bad Gateway</html>", 0, true), state: Unknown, lost: true},
		{name: "503 page from a proxy", err: apierrors.NewGenericServerResponse(503, "PATCH", gr, "x", "upstream connect error", 0, true), state: Unknown, lost: true},
		{name: "404 page from a proxy", err: apierrors.NewGenericServerResponse(404, "PATCH", gr, "x", "not found", 0, true), state: Failed},
		{name: "connection refused", err: fmt.Errorf("apply x: %w", refused), state: Unknown, lost: true},
		{name: "EOF", err: &url.Error{Op: "Patch", URL: "https://x", Err: io.EOF}, state: Unknown, lost: true},
		{name: "unexpected EOF", err: fmt.Errorf("read: %w", io.ErrUnexpectedEOF), state: Unknown, lost: true},
		{name: "deadline", err: fmt.Errorf("apply x: %w", context.DeadlineExceeded), state: Unknown, lost: true},
		{name: "abandoned on Ctrl-C", err: fmt.Errorf("apply x: %w", context.Canceled), state: Unknown, lost: true},
		{name: "connection reset", err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, state: Unknown, lost: true},
		{name: "http2 connection lost", err: errors.New("Patch \"https://x\": http2: client connection lost"), state: Unknown, lost: true},
		{name: "nothing sent", err: errors.New("apply x: the change has no object"), state: Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StateOf(tt.err); got != tt.state {
				t.Errorf("StateOf(%v) = %s, want %s", tt.err, got, tt.state)
			}
			if got := LostContact(tt.err); got != tt.lost {
				t.Errorf("LostContact(%v) = %v, want %v", tt.err, got, tt.lost)
			}
		})
	}
}

// TestStateOfClientErrors classifies what client-go itself returns for a
// server that hangs, drops the connection, answers through a broken proxy,
// refuses the change, or is not there.
func TestStateOfClientErrors(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/hang"):
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case strings.Contains(r.URL.Path, "/drop"):
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case strings.Contains(r.URL.Path, "/proxy"):
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>502 Bad Gateway</html>")
		case strings.Contains(r.URL.Path, "/conflict"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,"message":"the object has been modified"}`)
		}
	}))
	defer func() {
		close(release)
		srv.Close()
	}()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	gvk := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(gvk, meta.RESTScopeNamespace)
	client := func(host string) *Client {
		c, err := NewClient(&rest.Config{Host: host}, mapper, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	patch := func(name string) remedy.Change {
		ch, err := remedy.NewMergePatch("label", remedy.Target{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: name}, "",
			map[string]any{"metadata": map[string]any{"labels": map[string]any{"a": "b"}}})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	live := objects(t)["policy"]
	tests := []struct {
		name, host, object string
		state              State
		lost               bool
	}{
		{name: "server hangs past the timeout", host: srv.URL, object: "hang", state: Unknown, lost: true},
		{name: "connection dropped", host: srv.URL, object: "drop", state: Unknown, lost: true},
		{name: "proxy answers 502", host: srv.URL, object: "proxy", state: Unknown, lost: true},
		{name: "server refuses", host: srv.URL, object: "conflict", state: Failed},
		{name: "nobody listening", host: closedURL, object: "x", state: Unknown, lost: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := client(tt.host).Send(ctx, patch(tt.object), live)
			if err == nil {
				t.Fatal("no error")
			}
			if got := StateOf(err); got != tt.state {
				t.Errorf("StateOf(%v) = %s, want %s", err, got, tt.state)
			}
			if got := LostContact(err); got != tt.lost {
				t.Errorf("LostContact(%v) = %v, want %v", err, got, tt.lost)
			}
		})
	}
}

func TestReconcile(t *testing.T) {
	obj := objects(t)
	other := obj["after"].DeepCopy()
	other.SetLabels(map[string]string{"team": "someone-else"})
	label := Entry{Action: remedy.Apply, Old: obj["before"], New: obj["after"]}
	create := Entry{Action: remedy.Apply, New: obj["policy"]}
	del := Entry{Action: remedy.Delete, Old: obj["policy"]}
	tests := []struct {
		name  string
		entry Entry
		live  map[string]any
		want  Verdict
	}{
		{name: "label made", entry: label, live: obj["after"].Object, want: Made},
		{name: "label not made", entry: label, live: obj["before"].Object, want: NotMade},
		{name: "label: someone else changed it", entry: label, live: other.Object, want: Neither},
		{name: "create made", entry: create, live: obj["policy"].Object, want: Made},
		{name: "create not made", entry: create, want: NotMade},
		{name: "delete made", entry: del, want: Made},
		{name: "delete not made", entry: del, live: obj["policy"].Object, want: NotMade},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := obj["none"]
			if tt.live != nil {
				live = obj["before"].DeepCopy()
				live.Object = tt.live
			}
			if got := Reconcile(tt.entry, live); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
