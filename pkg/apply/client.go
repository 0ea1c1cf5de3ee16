// Package apply is the one package that writes to the cluster. It runs the
// fix session: each remediation change is shown with what and why, a diff of
// the live object against the server's dry-run answer, the admission warnings
// and what the change may break; after a yes the old object is journaled and
// the change is sent with the resourceVersion it was shown at as a
// precondition. Undo restores objects from the journal.
package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

// Client sends changes to the API server and collects the warnings the
// server returns for each request.
type Client struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

// NewClient returns a client for cfg. Warnings of requests made outside
// DryRun (reads, the real writes) are written to warnings, as kubectl does.
func NewClient(cfg *rest.Config, mapper meta.RESTMapper, warnings io.Writer) (*Client, error) {
	c := rest.CopyConfig(cfg)
	c.WarningHandler = nil
	c.WarningHandlerWithContext = warningRouter{fallback: warnings}
	dyn, err := dynamic.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("create a client for %s: %w", cfg.Host, err)
	}
	return &Client{dyn: dyn, mapper: mapper}, nil
}

// NewClientForConfig is NewClient with a REST mapper discovered from the server.
func NewClientForConfig(cfg *rest.Config, warnings io.Writer) (*Client, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create a discovery client for %s: %w", cfg.Host, err)
	}
	return NewClient(cfg, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), warnings)
}

// resource returns the dynamic client of the target's resource, scoped to its namespace.
func (c *Client) resource(t remedy.Target) (dynamic.ResourceInterface, error) {
	gvk := t.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("find the API resource of %s: %w", t, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if t.Namespace == "" {
			return nil, fmt.Errorf("%s is namespaced but the change names no namespace", t)
		}
		return c.dyn.Resource(m.Resource).Namespace(t.Namespace), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

// Get reads the target; it returns nil and no error when the object does not exist.
func (c *Client) Get(ctx context.Context, t remedy.Target) (*unstructured.Unstructured, error) {
	ri, err := c.resource(t)
	if err != nil {
		return nil, err
	}
	obj, err := ri.Get(ctx, t.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t, err)
	}
	return obj, nil
}

// Response is the server's answer to a change.
type Response struct {
	// Object is the object as the server stored it, or would store it after a
	// dry run; nil after a delete.
	Object *unstructured.Unstructured
	// Warnings are the warning headers of the request: admission warnings
	// such as the pods a new PodSecurity level would reject.
	Warnings []string
	// TakesOver lists the fields other field managers own that an apply
	// takes over (only set by DryRun).
	TakesOver []string
}

// DryRun sends the change with dryRun=All: the server validates it and runs
// admission, but stores nothing. An apply that conflicts with another field
// manager is tried again with force, and the fields it would take over are
// reported, because the real apply forces them once a person said yes.
func (c *Client) DryRun(ctx context.Context, ch remedy.Change, live *unstructured.Unstructured) (Response, error) {
	resp, err := c.send(ctx, ch, live, true, false)
	if err != nil && ch.Action == remedy.Apply && live != nil {
		if fields := ownershipConflicts(err); len(fields) > 0 {
			resp, err = c.send(ctx, ch, live, true, true)
			resp.TakesOver = fields
		}
	}
	return resp, err
}

// Send makes the change for real. live is the object as read when the change
// was shown (nil when it did not exist); its resourceVersion is the
// precondition, so a change made by anyone since then fails with a conflict
// and leaves the object as it is. An apply to an existing object forces
// field ownership: the precondition guarantees the result is the one the
// dry-run showed. An apply that creates the object does not force, so an
// object someone else created in the meantime is not silently taken over.
func (c *Client) Send(ctx context.Context, ch remedy.Change, live *unstructured.Unstructured) (Response, error) {
	return c.send(ctx, ch, live, false, live != nil)
}

func (c *Client) send(ctx context.Context, ch remedy.Change, live *unstructured.Unstructured, dryRun, force bool) (Response, error) {
	ri, err := c.resource(ch.Target)
	if err != nil {
		return Response{}, err
	}
	dr := dryRunAll(dryRun)
	warnings := &warningList{}
	ctx = context.WithValue(ctx, warningsKey{}, warnings)
	var resp Response
	switch ch.Action {
	case remedy.Apply:
		if ch.Object == nil {
			return resp, fmt.Errorf("apply %s: the change has no object", ch.Target)
		}
		obj := render.Clean(ch.Object)
		if live != nil {
			obj.SetResourceVersion(live.GetResourceVersion())
		}
		resp.Object, err = ri.Apply(ctx, ch.Target.Name, obj, metav1.ApplyOptions{FieldManager: remedy.FieldManager, Force: force, DryRun: dr})
	case remedy.Patch:
		if live == nil {
			return resp, fmt.Errorf("patch %s: it does not exist", ch.Target)
		}
		body, perr := render.WithResourceVersion(ch, live.GetResourceVersion())
		if perr != nil {
			return resp, perr
		}
		resp.Object, err = ri.Patch(ctx, ch.Target.Name, ch.PatchType, body, metav1.PatchOptions{FieldManager: remedy.FieldManager, DryRun: dr})
	case remedy.Delete:
		if live == nil {
			return resp, fmt.Errorf("delete %s: it does not exist", ch.Target)
		}
		uid, rv := live.GetUID(), live.GetResourceVersion()
		err = ri.Delete(ctx, ch.Target.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
			DryRun:        dr,
		})
	default:
		return resp, fmt.Errorf("change to %s: unknown action %q", ch.Target, ch.Action)
	}
	resp.Warnings = warnings.take()
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", ch.Action, ch.Target, err)
	}
	return resp, nil
}

// create and update are what undo needs besides delete; dryRun sends them
// with dryRun=All.
func (c *Client) create(ctx context.Context, obj *unstructured.Unstructured, t remedy.Target, dryRun bool) (*unstructured.Unstructured, error) {
	ri, err := c.resource(t)
	if err != nil {
		return nil, err
	}
	out, err := ri.Create(ctx, obj, metav1.CreateOptions{FieldManager: remedy.FieldManager, DryRun: dryRunAll(dryRun)})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", t, err)
	}
	return out, nil
}

func (c *Client) update(ctx context.Context, obj *unstructured.Unstructured, t remedy.Target, dryRun bool) (*unstructured.Unstructured, error) {
	ri, err := c.resource(t)
	if err != nil {
		return nil, err
	}
	out, err := ri.Update(ctx, obj, metav1.UpdateOptions{FieldManager: remedy.FieldManager, DryRun: dryRunAll(dryRun)})
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", t, err)
	}
	return out, nil
}

func dryRunAll(on bool) []string {
	if on {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// IsConflict reports whether err says the object changed since it was read.
func IsConflict(err error) bool {
	return apierrors.IsConflict(err) && len(ownershipConflicts(err)) == 0
}

// ownershipConflicts returns the fields of a server-side apply conflict with
// other field managers, as the server words them.
func ownershipConflicts(err error) []string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsConflict(err) {
		return nil
	}
	var out []string
	if d := status.Status().Details; d != nil {
		for _, c := range d.Causes {
			if c.Type == metav1.CauseTypeFieldManagerConflict {
				// The server says `conflict with "manager"` and names the field apart.
				owner := strings.TrimPrefix(strings.TrimSpace(c.Message), "conflict with ")
				out = append(out, c.Field+", owned by "+owner)
			}
		}
	}
	return out
}

// warningsKey carries the *warningList of one request in its context.
type warningsKey struct{}

// warningList collects the warnings of one request (through warningRouter),
// or of every request of a client of its own (as its WarningHandler).
type warningList struct {
	mu   sync.Mutex
	list []string
}

// HandleWarningHeader keeps a warning the server answered with.
func (w *warningList) HandleWarningHeader(code int, _ string, text string) {
	if !isWarning(code, text) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningList) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// warningRouter hands a warning to the list in the request's context, or
// prints it like kubectl when the request has none.
type warningRouter struct{ fallback io.Writer }

func (r warningRouter) HandleWarningHeaderWithContext(ctx context.Context, code int, agent string, text string) {
	if l, ok := ctx.Value(warningsKey{}).(*warningList); ok {
		l.HandleWarningHeader(code, agent, text)
		return
	}
	if isWarning(code, text) && r.fallback != nil {
		fmt.Fprintf(r.fallback, "Warning: %s\n", text)
	}
}

// isWarning tells a warning header (code 299, RFC 7234) with text from the others.
func isWarning(code int, text string) bool { return code == 299 && text != "" }
