package apply

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-harden/kubectl-harden/pkg/exceptions"
	"github.com/kubectl-harden/kubectl-harden/pkg/finding"
	"github.com/kubectl-harden/kubectl-harden/pkg/remedy"
)

func acceptItem() Item {
	binding := finding.Resource{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "ci:admin[old]"}
	f := func(ns, name string) finding.Finding {
		return finding.Finding{Check: "rbac/cluster-admin-binding", Resource: binding,
			Subject: &finding.Subject{Kind: "ServiceAccount", Namespace: ns, Name: name}}
	}
	return Item{
		Check: "rbac/cluster-admin-binding",
		// The same finding twice (two messages of one subject) gives one entry.
		Findings: []finding.Finding{f("ci", "deployer"), f("ci", "deployer"), f("ci", "builder")},
		Change:   remedy.NewDelete("delete the binding", remedy.Target{APIVersion: binding.APIVersion, Kind: binding.Kind, Name: binding.Name}, "7"),
	}
}

// ac[c]ept asks for a reason, an owner and an expiry, re-asks what is
// missing or out of bounds, and writes entries the next audit matches to
// exactly the item's findings.
func TestAcceptWritesExceptions(t *testing.T) {
	now := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		maxDays int
		script  string
		expires string
		say     []string
	}{
		{name: "the default expiry is 90 days", script: "legacy CI until the operator ships\nplatform-team\n\n", expires: "2026-05-30",
			say: []string{"Expires (YYYY-MM-DD) [2026-05-30]: "}},
		{name: "--max-exception-days bounds the default", maxDays: 30, script: "why\nme\n\n", expires: "2026-03-31",
			say: []string{"at most 30 days away) [2026-03-31]"}},
		{name: "an expiry beyond --max-exception-days is asked again", maxDays: 30, script: "why\nme\n2027-01-01\nsoon\n2026-03-15\n", expires: "2026-03-15",
			say: []string{"more than 30 days away", `"soon" is not a date`}},
		{name: "an empty reason and owner are asked again", script: "\n  \nwhy\n\nme\n2026-04-01\n", expires: "2026-04-01",
			say: []string{"A reason is required", "An owner is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "sub", exceptions.DefaultFile)
			var out strings.Builder
			s := &Session{Out: &out, Accept: &Acceptor{File: file, Options: exceptions.Options{Now: now, MaxDays: tt.maxDays}}}
			it := acceptItem()
			acc, err := s.accept(context.Background(), newAnswers(strings.NewReader(tt.script)), painter{}, it)
			if err != nil || acc.err != nil {
				t.Fatalf("accept: %v, %v\n%s", err, acc.err, out.String())
			}
			for _, want := range append(tt.say, "Accept the 2 findings of rbac/cluster-admin-binding", "Accepted: 2 exceptions in "+file+" until "+tt.expires) {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			entries, err := exceptions.Load(file, exceptions.Options{Now: now, MaxDays: tt.maxDays})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 2 {
				t.Fatalf("%d entries, want 2", len(entries))
			}
			for _, e := range entries {
				if e.Expires != tt.expires || e.Reason == "" || e.Owner == "" {
					t.Errorf("entry %+v", e)
				}
			}
			// Each finding is accepted by the file; a finding of another subject or binding is not.
			for _, f := range it.Findings {
				if !matchesAny(entries, f) {
					t.Errorf("no entry accepts %+v", f.Subject)
				}
			}
			other := it.Findings[0]
			other.Subject = &finding.Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "tester"}
			renamed := it.Findings[0]
			renamed.Resource.Name = "ci:admina" // "[old]" must not be read as a glob class
			for _, f := range []finding.Finding{other, renamed} {
				if matchesAny(entries, f) {
					t.Errorf("an entry accepts %+v on %s", f.Subject, f.Resource.Name)
				}
			}
		})
	}
}

func matchesAny(entries []exceptions.Entry, f finding.Finding) bool {
	for _, e := range entries {
		if e.Matches(f, nil, false) {
			return true
		}
	}
	return false
}

// The answers end before the expiry: nothing is written, and the session ends as at a question.
func TestAcceptEndOfInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.yaml")
	s := &Session{Out: io.Discard, Accept: &Acceptor{File: file}}
	_, err := s.accept(context.Background(), newAnswers(strings.NewReader("why\nme\n")), painter{}, acceptItem())
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want EOF", err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a file was written: %v", err)
	}
}

// A malformed exceptions file is not appended to: the error is said and the question asked again.
func TestAcceptRefusesAMalformedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: kubectl-harden.io/v1alpha1\nkind: Exceptions\nexceptions:\n- check: psa/\n  bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s := &Session{Out: &out, Accept: &Acceptor{File: file}}
	acc, err := s.accept(context.Background(), newAnswers(strings.NewReader("why\nme\n2099-01-01\n")), painter{}, acceptItem())
	if err != nil || acc.err == nil || !strings.Contains(out.String(), "Not accepted: 0 of 2 exceptions written") {
		t.Fatalf("err %v, acc %+v\n%s", err, acc, out.String())
	}
}
