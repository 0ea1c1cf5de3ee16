package cmd

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-harden/kubectl-harden/pkg/checks/all"
)

var checkIDInText = regexp.MustCompile(`\b(rbac|netpol|psa|workload|cluster)/[a-z0-9]+(-[a-z0-9]+)*\b`)

// Every check ID the README names exists: a user copies them into --check.
func TestReadmeCheckIDsExist(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := all.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range checkIDInText.FindAllString(string(b), -1) {
		if _, ok := reg.Get(id); !ok {
			t.Errorf("README.md names check %s, which does not exist", id)
		}
	}
}

// Every `kubectl harden ...` line of the README's shell blocks names a real
// command and flags it accepts.
func TestReadmeCommandLinesParse(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			in = strings.HasPrefix(line, "```sh") && !in
			continue
		}
		if !in {
			continue
		}
		// A line may pipe or chain: each `kubectl harden` segment is checked.
		for _, seg := range regexp.MustCompile(`\|\||&&|\||;|>`).Split(line, -1) {
			seg = strings.TrimSpace(seg)
			if i := strings.Index(seg, "#"); i >= 0 {
				seg = strings.TrimSpace(seg[:i])
			}
			if !strings.HasPrefix(seg, "kubectl harden") {
				continue
			}
			args := shellWords(strings.TrimPrefix(seg, "kubectl harden"))
			n++
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			root := NewCmdRoot(streams)
			c, rest, err := root.Find(args)
			if err != nil {
				t.Errorf("%q: %v", seg, err)
				continue
			}
			if err := c.ParseFlags(rest); err != nil {
				t.Errorf("%q: %v", seg, err)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d command lines found in README.md", n)
	}
}

// shellWords splits a command line as a shell would for the README's lines:
// spaces separate words, single and double quotes group them.
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
