package inventory

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
)

// AuditLog is what API server audit logs (audit.k8s.io/v1 Event JSON lines)
// say of the requests made in a window: who asked what, and whether the
// authorizer allowed it. It is read once, like the snapshot, and the rbac
// domain judges the grants against it.
type AuditLog struct {
	Files []string
	// Since and Until bound the window asked for (zero: open).
	Since, Until time.Time
	// First and Last are the times of the first and last request in the window.
	First, Last time.Time
	// Events counts the events read (every stage), InWindow the requests in the window.
	Events, InWindow int
	// Skipped are the lines that are not audit events.
	Skipped []AuditLine
	// Requests are the completed requests in the window, one per audit ID.
	Requests []AuditRequest
	// Levels counts the requests by the audit level they were logged at.
	Levels map[string]int
	// Undecided counts the requests without the authorizer's decision
	// annotation; their outcome is read from the response code.
	Undecided int
	// Incomplete counts the requests seen only at RequestReceived: the
	// policy omits the later stages, so whether they were allowed is unknown.
	Incomplete int
}

// AuditLine is a line of an audit log that could not be used.
type AuditLine struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (l AuditLine) String() string { return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.Reason) }

// AuditRequest is one request as the authorizer saw it.
type AuditRequest struct {
	// User and Groups are whom the request was authorized as: the impersonated
	// user when there was one.
	User   string
	Groups []string
	// Verb is the Kubernetes verb (get, list, watch, create, ...), or for a
	// non-resource URL the lower-case HTTP method.
	Verb                                          string
	Group, Resource, Subresource, Namespace, Name string
	// Path is set for a non-resource request (/healthz, /apis).
	Path    string
	Allowed bool
	Level   string
	Time    time.Time
	// Where is the file and line of the event.
	Where string
}

// decisionAnnotation is where the authorizer writes allow or forbid.
const decisionAnnotation = "authorization.k8s.io/decision"

// ReadAuditLogs reads audit logs: each path a file of JSON lines, plain or
// gzip (by its first bytes), or "-" for stdin. A line that is not an event is
// skipped and named; a file without a single event is an error naming it,
// since it is not an audit log. Only the requests between since and until
// (zero: open) are kept.
func ReadAuditLogs(paths []string, stdin io.Reader, since, until time.Time) (*AuditLog, error) {
	if len(paths) == 0 {
		return nil, errors.New("no audit log given")
	}
	log := &AuditLog{Files: paths, Since: since, Until: until, Levels: map[string]int{}}
	type state struct {
		req  AuditRequest
		done bool
	}
	byID := map[string]*state{}
	var order []string
	for _, p := range paths {
		r, closeFn, err := openLog(p, stdin)
		if err != nil {
			return nil, err
		}
		events, err := readEvents(p, r, log, func(e *auditv1.Event, where string) {
			t := e.RequestReceivedTimestamp.Time
			if (!since.IsZero() && t.Before(since)) || (!until.IsZero() && t.After(until)) {
				return
			}
			id := string(e.AuditID)
			if id == "" {
				id = where
			}
			st, ok := byID[id]
			if !ok {
				st = &state{}
				byID[id] = st
				order = append(order, id)
			}
			if st.done {
				return
			}
			st.req = requestOf(e, where)
			// A long watch may still be open when the log ends: its start counts.
			st.done = e.Stage == auditv1.StageResponseComplete || e.Stage == auditv1.StagePanic ||
				(e.Stage == auditv1.StageResponseStarted && e.Verb == "watch")
			if st.done && e.Annotations[decisionAnnotation] == "" {
				log.Undecided++
			}
		})
		closeFn()
		if err != nil {
			return nil, err
		}
		if events == 0 {
			what := "it is empty"
			for _, s := range log.Skipped {
				if s.File == p {
					what = "line " + fmt.Sprint(s.Line) + ": " + s.Reason
					break
				}
			}
			return nil, fmt.Errorf("%s is not an audit log (audit.k8s.io/v1 Event JSON lines): %s", p, what)
		}
	}
	for _, id := range order {
		st := byID[id]
		if !st.done {
			log.Incomplete++
			continue
		}
		log.InWindow++
		log.Levels[st.req.Level]++
		log.Requests = append(log.Requests, st.req)
		if log.First.IsZero() || st.req.Time.Before(log.First) {
			log.First = st.req.Time
		}
		if st.req.Time.After(log.Last) {
			log.Last = st.req.Time
		}
	}
	sort.SliceStable(log.Requests, func(i, j int) bool { return log.Requests[i].Time.Before(log.Requests[j].Time) })
	return log, nil
}

func openLog(p string, stdin io.Reader) (io.Reader, func(), error) {
	var r io.Reader
	closeFn := func() {}
	if p == "-" {
		if stdin == nil {
			return nil, nil, errors.New("audit log -: no standard input")
		}
		r = stdin
	} else {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read audit log: %w", err)
		}
		r, closeFn = f, func() { f.Close() }
	}
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("read audit log %s: %w", p, err)
		}
		return zr, func() { zr.Close(); closeFn() }, nil
	}
	return br, closeFn, nil
}

// readEvents decodes one event per line and hands each to use; it returns
// how many lines were events.
func readEvents(file string, r io.Reader, log *AuditLog, use func(*auditv1.Event, string)) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024) // events at Request level carry whole objects
	n, events := 0, 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e auditv1.Event
		if err := json.Unmarshal(line, &e); err != nil {
			log.Skipped = append(log.Skipped, AuditLine{File: file, Line: n, Reason: "not JSON: " + err.Error()})
			continue
		}
		if e.Kind != "Event" || !strings.HasPrefix(e.APIVersion, "audit.k8s.io/") || e.Stage == "" || e.Verb == "" {
			log.Skipped = append(log.Skipped, AuditLine{File: file, Line: n,
				Reason: fmt.Sprintf("not an audit event (apiVersion %q, kind %q, stage %q, verb %q)", e.APIVersion, e.Kind, e.Stage, e.Verb)})
			continue
		}
		events++
		log.Events++
		use(&e, fmt.Sprintf("%s:%d", file, n))
	}
	if err := sc.Err(); err != nil {
		return events, fmt.Errorf("read audit log %s (line %d): %w", file, n+1, err)
	}
	return events, nil
}

// requestOf is the request an event records, as the authorizer saw it.
func requestOf(e *auditv1.Event, where string) AuditRequest {
	u := e.User
	if e.ImpersonatedUser != nil {
		u = *e.ImpersonatedUser
	}
	r := AuditRequest{User: u.Username, Groups: u.Groups, Verb: e.Verb, Level: string(e.Level), Time: e.RequestReceivedTimestamp.Time, Where: where}
	if o := e.ObjectRef; o != nil && o.Resource != "" {
		r.Group, r.Resource, r.Subresource, r.Namespace, r.Name = o.APIGroup, o.Resource, o.Subresource, o.Namespace, o.Name
	} else {
		r.Path, _, _ = strings.Cut(e.RequestURI, "?")
	}
	switch d := e.Annotations[decisionAnnotation]; {
	case d != "":
		r.Allowed = d == "allow"
	case e.ResponseStatus != nil:
		r.Allowed = e.ResponseStatus.Code != 403
	default:
		r.Allowed = true
	}
	return r
}
