package apply

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy/render"
)

func TestJournalLifecycle(t *testing.T) {
	obj := objects(t)
	dir := filepath.Join(t.TempDir(), ".kube", "harden")
	j := NewJournal(dir, "prod", "https://10.0.0.1:6443")
	j.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	if err := j.EnsureDir(); err != nil {
		t.Fatal(err)
	}
	if j.Path() != "" {
		t.Fatal("a journal file exists before any entry")
	}
	label := remedy.NewApply("label shop", obj["after"].Object)
	deny := remedy.NewApply("deny", obj["policy"].Object)

	seq, err := j.Begin("psa/enforce-missing", label, obj["before"], obj["after"])
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "journal-20250601-120000.000.jsonl"); j.Path() != want {
		t.Errorf("path %s, want %s", j.Path(), want)
	}
	if _, err := j.Finish(seq, obj["after"], nil); err != nil {
		t.Fatal(err)
	}
	seq2, err := j.Begin("netpol/namespace-without-policy", deny, nil, obj["policy"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(seq2, nil, errors.New("conflict")); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(99, nil, nil); err == nil {
		t.Error("finishing a change never begun succeeded")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	for path, want := range map[string]os.FileMode{dir: 0o700, j.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}

	j2, entries, err := OpenJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, string(e.State))
		if e.Context != "prod" || e.Server != "https://10.0.0.1:6443" || e.Time.IsZero() {
			t.Errorf("entry %d lacks context, server or time: %+v", e.Seq, e)
		}
	}
	if strings.Join(got, ",") != "pending,applied,pending,failed" {
		t.Errorf("states %v", got)
	}
	first := entries[0]
	if !render.Equal(first.Old, obj["before"]) || first.Old.GetResourceVersion() != "10" {
		t.Errorf("the old object is not journaled as read: %v", first.Old)
	}
	if len(entries[1].New.GetManagedFields()) != 0 || entries[1].New.GetResourceVersion() != "11" {
		t.Errorf("the stored object should keep its resourceVersion and drop managedFields: %v", entries[1].New.Object["metadata"])
	}
	if entries[3].Error != "conflict" || entries[3].New != nil {
		t.Errorf("failed entry: %+v", entries[3])
	}
	if u := Undoable(entries); len(u) != 1 || u[0].Seq != 1 {
		t.Errorf("undoable: %+v", u)
	}
	if err := j2.MarkUndone(entries[1], obj["before"]); err != nil {
		t.Fatal(err)
	}
	j2.Close()
	entries, err = ReadJournal(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if u := Undoable(entries); len(u) != 0 {
		t.Errorf("an undone change is still undoable: %+v", u)
	}
}

func TestJournalDirectoryIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "harden", "journals")
	if err := NewJournal(dir, "", "").EnsureDir(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("created with mode %v, want 0700", fi.Mode().Perm())
	}
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	err := NewJournal(shared, "", "").EnsureDir()
	if err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("a shared directory was accepted: %v", err)
	}
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o755 {
		t.Errorf("a directory the journal does not own was changed to %v", fi.Mode().Perm())
	}
}

func TestJournalNamesDoNotCollide(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journals")
	now := func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	var paths []string
	for range 3 {
		j := NewJournal(dir, "", "")
		j.Now = now
		if _, err := j.Begin("", remedy.NewDelete("", remedy.Target{APIVersion: "v1", Kind: "Namespace", Name: "x"}, ""), nil, nil); err != nil {
			t.Fatal(err)
		}
		j.Close()
		paths = append(paths, j.Path())
	}
	latest, err := LatestJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if latest != paths[2] {
		t.Errorf("latest %s, want the last one started %s (all: %v)", latest, paths[2], paths)
	}
}

func TestLatestJournalEmpty(t *testing.T) {
	_, err := LatestJournal(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "nothing to undo") {
		t.Errorf("err = %v", err)
	}
}

func TestReadJournalNamesTheBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal-x.jsonl")
	if err := os.WriteFile(path, []byte(`{"seq":1,"state":"pending","action":"delete","target":{"apiVersion":"v1","kind":"Namespace","name":"x"}}`+"\n\n{oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadJournal(path)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v", err)
	}
}

func TestUndoable(t *testing.T) {
	e := func(seq int, s State) Entry { return Entry{Seq: seq, State: s} }
	tests := []struct {
		name    string
		entries []Entry
		want    []int
	}{
		{name: "newest first", entries: []Entry{e(1, Pending), e(1, Applied), e(2, Pending), e(2, Applied)}, want: []int{2, 1}},
		{name: "failed and undone left out", entries: []Entry{e(1, Pending), e(1, Failed), e(2, Pending), e(2, Applied), e(2, Undone)}},
		{name: "no outcome: the live object decides", entries: []Entry{e(1, Pending)}, want: []int{1}},
		{name: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, u := range Undoable(tt.entries) {
				got = append(got, u.Seq)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestChangedSince(t *testing.T) {
	obj := objects(t)
	statusOnly := obj["after"].DeepCopy()
	statusOnly.SetResourceVersion("15")
	statusOnly.Object["status"] = map[string]any{"phase": "Terminating"}
	relabelled := obj["after"].DeepCopy()
	relabelled.SetResourceVersion("16")
	relabelled.SetLabels(map[string]string{"team": "other"})
	applied := Entry{Action: remedy.Apply, New: obj["after"]}
	deleted := Entry{Action: remedy.Delete, Old: obj["before"]}
	tests := []struct {
		name  string
		entry Entry
		live  *unstructured.Unstructured
		want  string // substring; empty means unchanged
	}{
		{name: "same resourceVersion", entry: applied, live: obj["after"]},
		{name: "only status and metadata moved", entry: applied, live: statusOnly},
		{name: "labels changed", entry: applied, live: relabelled, want: "changed (resourceVersion 16, the journal recorded 11 after the fix)"},
		{name: "deleted since", entry: applied, want: "was deleted"},
		{name: "deletion still in place", entry: deleted},
		{name: "created again", entry: deleted, live: obj["before"], want: "was created again (resourceVersion 10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := changedSince(tt.entry, tt.live)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
