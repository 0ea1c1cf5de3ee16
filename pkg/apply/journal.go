package apply

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/homedir"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

// State is where a journaled change stands.
type State string

const (
	// Pending is written before the change is sent: if the plugin dies
	// mid-change, the journal still holds the old object.
	Pending State = "pending"
	// Applied records the object as the server stored it after the change.
	Applied State = "applied"
	// Failed records that the server refused the change; the object was left alone.
	Failed State = "failed"
	// Unknown records that no answer came (timeout, connection lost,
	// abandoned on Ctrl-C): the server may have made the change. The session's
	// end and undo reconcile it against the live object.
	Unknown State = "unknown"
	// Undone records that undo restored the old object.
	Undone State = "undone"
)

// Entry is one line of a journal. The lines of one change share its Seq; the
// last line of a Seq says where the change stands.
type Entry struct {
	Seq         int           `json:"seq"`
	State       State         `json:"state"`
	Time        time.Time     `json:"time"`
	Context     string        `json:"context,omitempty"`
	Server      string        `json:"server,omitempty"`
	Check       string        `json:"check,omitempty"`
	Action      remedy.Action `json:"action"`
	Target      remedy.Target `json:"target"`
	Description string        `json:"description,omitempty"`
	// Old is the object before the change, as read and shown; nil when the change created it.
	Old *unstructured.Unstructured `json:"old,omitempty"`
	// New is the proposed object (Pending), the stored one (Applied), or the
	// restored one (Undone); nil when the object is gone.
	New   *unstructured.Unstructured `json:"new,omitempty"`
	Error string                     `json:"error,omitempty"`
	// Reconciled says how an unknown outcome was settled afterwards: from
	// the live object, by the session's end or by undo.
	Reconciled string `json:"reconciled,omitempty"`
}

// DefaultJournalDir is where journals go: harden/ in the user's kube config
// directory (~/.kube/harden), next to the kubeconfig they were made with.
func DefaultJournalDir() string {
	return filepath.Join(homedir.HomeDir(), ".kube", "harden")
}

// Journal appends entries to a file only its owner can read or write: it
// holds full copies of objects, RoleBindings and all. The file is created at
// the first entry, so a session that changes nothing leaves nothing behind.
type Journal struct {
	Dir     string
	Context string // kubeconfig context the session talks to
	Server  string // API server URL
	Now     func() time.Time

	path  string
	f     *os.File
	seq   int
	begun map[int]Entry
}

// NewJournal returns a journal that will create its file in dir.
func NewJournal(dir, context, server string) *Journal {
	return &Journal{Dir: dir, Context: context, Server: server, Now: time.Now, begun: map[int]Entry{}}
}

// Path is the journal file, empty until the first entry.
func (j *Journal) Path() string { return j.path }

// EnsureDir creates the journal directory with mode 0700, so a session fails
// before its first change, not at it. An existing directory that others can
// reach is refused rather than changed: it may be shared (say /tmp), and its
// mode is not ours to tighten.
func (j *Journal) EnsureDir() error {
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("create the journal directory: %w", err)
	}
	fi, err := os.Stat(j.Dir)
	if err != nil {
		return fmt.Errorf("read the journal directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("journal directory %s is not a directory", j.Dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("journal directory %s is open to other users (mode %04o): journals hold object copies; use a private directory (chmod 700 %s)", j.Dir, perm, j.Dir)
	}
	return nil
}

func (j *Journal) open() error {
	if j.f != nil {
		return nil
	}
	if err := j.EnsureDir(); err != nil {
		return err
	}
	base := "journal-" + j.Now().UTC().Format("20060102-150405.000")
	for i := 0; ; i++ {
		name := base + ".jsonl"
		if i > 0 {
			name = fmt.Sprintf("%s-%d.jsonl", base, i)
		}
		path := filepath.Join(j.Dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create the journal: %w", err)
		}
		j.f, j.path = f, path
		return nil
	}
}

// OpenJournal reads an existing journal and opens it to append the outcome of an undo.
func OpenJournal(path string) (*Journal, []Entry, error) {
	entries, err := ReadJournal(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open the journal to record the undo: %w", err)
	}
	j := &Journal{Dir: filepath.Dir(path), Now: time.Now, path: path, f: f, begun: map[int]Entry{}}
	for _, e := range entries {
		j.seq = max(j.seq, e.Seq)
	}
	return j, entries, nil
}

// Close closes the file.
func (j *Journal) Close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// Begin journals a change before it is sent, with the object as it is now
// (old, nil when absent) and as it is proposed; it returns the change's Seq.
// The line is on disk (synced) when Begin returns.
func (j *Journal) Begin(check string, ch remedy.Change, old, proposed *unstructured.Unstructured) (int, error) {
	j.seq++
	e := Entry{Seq: j.seq, State: Pending, Context: j.Context, Server: j.Server, Check: check,
		Action: ch.Action, Target: ch.Target, Description: ch.Description, Old: compact(old), New: compact(proposed)}
	if err := j.write(e); err != nil {
		return 0, err
	}
	j.begun[e.Seq] = e
	return e.Seq, nil
}

// Finish records the outcome of a begun change: Applied with the stored
// object, Failed with the server's error, or Unknown (StateOf the error)
// with the proposed object kept as New, so that reconciling can compare the
// live object with it.
func (j *Journal) Finish(seq int, stored *unstructured.Unstructured, failure error) (State, error) {
	e, ok := j.begun[seq]
	if !ok {
		return "", fmt.Errorf("journal: change %d was not begun", seq)
	}
	state := StateOf(failure)
	switch state {
	case Applied:
		e.New, e.Error = compact(stored), ""
	case Failed:
		e.New, e.Error = nil, failure.Error()
	case Unknown:
		e.Error = failure.Error()
	}
	e.State = state
	j.begun[seq] = e
	return state, j.write(e)
}

// Settle records what the live object says of a change whose outcome was
// unknown: Applied (it is as proposed), Failed (as before), or Unknown still
// (neither). how is said in the entry's Reconciled.
func (j *Journal) Settle(e Entry, v Verdict, live *unstructured.Unstructured, how string) error {
	switch v {
	case Made:
		e.State, e.New = Applied, compact(live)
	case NotMade:
		e.State, e.New = Failed, nil
	default:
		e.State = Unknown
	}
	e.Reconciled = how
	return j.write(e)
}

// MarkUndone records that undo restored the old object of an entry.
func (j *Journal) MarkUndone(e Entry, restored *unstructured.Unstructured) error {
	e.State, e.New, e.Error, e.Reconciled = Undone, compact(restored), "", ""
	return j.write(e)
}

func (j *Journal) write(e Entry) error {
	if err := j.open(); err != nil {
		return err
	}
	e.Time = j.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode the journal entry of %s: %w", e.Target, err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write the journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync the journal %s: %w", j.path, err)
	}
	return nil
}

// compact drops managedFields, which undo never restores and which can be
// most of an object's size.
func compact(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	c := obj.DeepCopy()
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	return c
}

// ReadJournal reads every entry of a journal file, in order.
func ReadJournal(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("read the journal %s, line %d: %w", path, line, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the journal %s: %w", path, err)
	}
	return out, nil
}

// LatestJournal returns the newest journal in dir. Names carry the session's
// start time, so the newest sorts last whatever undo appended to older ones.
func LatestJournal(dir string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "journal-*.jsonl"))
	if err != nil {
		return "", fmt.Errorf("list journals in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return "", fmt.Errorf("no fix session journal in %s: nothing to undo", dir)
	}
	// Compare without the extension, so that journal-T-1 (a second session
	// started in the same millisecond) sorts after journal-T.
	sort.Slice(paths, func(a, b int) bool {
		return strings.TrimSuffix(paths[a], ".jsonl") < strings.TrimSuffix(paths[b], ".jsonl")
	})
	return paths[len(paths)-1], nil
}

// Latest returns the last entry of every Seq, in Seq order: where each change stands.
func Latest(entries []Entry) []Entry {
	last := map[int]Entry{}
	var seqs []int
	for _, e := range entries {
		if _, ok := last[e.Seq]; !ok {
			seqs = append(seqs, e.Seq)
		}
		last[e.Seq] = e
	}
	sort.Ints(seqs)
	out := make([]Entry, 0, len(seqs))
	for _, s := range seqs {
		out = append(out, last[s])
	}
	return out
}
