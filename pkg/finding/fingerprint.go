package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// identityEvidence are the evidence entries that say which part of an object
// a finding is about when one check reports several findings on one object
// and subject: a container, a field, a control-plane flag, a webhook, an
// exception entry. Their values are part of the fingerprint.
//
// Everything else in the evidence (pods, counts, rules, paths, violations)
// describes the finding's current extent: pods are renamed when they restart
// and a count grows with an unrelated deployment, so it never enters the
// fingerprint, nor does the message, which carries the same numbers.
var identityEvidence = map[string]bool{
	"container": true, "field": true, "flag": true, "webhook": true,
	"label": true, "kind": true, "exception": true,
}

// settingEvidence are entries whose name, not value, tells two findings of one
// object apart (an admission policy's failurePolicy and its enforcement
// mode): the value changing is the same weakness, or its fix.
var settingEvidence = map[string]bool{
	"failurePolicy": true, "validationFailureAction": true, "validationActions": true, "mode": true,
}

// containerIndex matches the list index in a field path: containers[2]
// becomes containers[] so adding a sidecar before a container does not make
// its findings new.
var containerIndex = regexp.MustCompile(`\[[0-9]+\]`)

// FingerprintVersion names the recipe of Fingerprint; it changes when the
// recipe does, so consumers never match old fingerprints to new ones.
const FingerprintVersion = "v2"

// Fingerprint identifies the finding across runs by what it is about: the
// check, the object (API group, kind, namespace, name: not the version, which
// upgrades change), the subject, and the evidence entries that define which
// part of the object it is (identityEvidence, settingEvidence). It is the same
// for a finding decoded from a report's JSON as for the one the check made.
func (f Finding) Fingerprint() string {
	group, _, found := strings.Cut(f.Resource.APIVersion, "/")
	if !found {
		group = "" // core: "v1"
	}
	parts := []string{FingerprintVersion, f.Check, group, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name}
	if f.Subject != nil {
		parts = append(parts, f.Subject.Kind, f.Subject.Namespace, f.Subject.Name)
	} else {
		parts = append(parts, "", "", "")
	}
	keys := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		if identityEvidence[k] || settingEvidence[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if settingEvidence[k] {
			parts = append(parts, k)
			continue
		}
		v := canonical(f.Evidence[k])
		if k == "field" {
			v = containerIndex.ReplaceAllString(v, "[]")
		}
		parts = append(parts, k+"="+v)
	}
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// canonical writes an evidence value the same way whether it was made by a
// check (Go types) or decoded from a report (JSON types).
func canonical(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var back any
	if json.Unmarshal(b, &back) == nil {
		if b2, err := json.Marshal(back); err == nil {
			return string(b2)
		}
	}
	return string(b)
}
