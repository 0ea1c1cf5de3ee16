package inventory

import "testing"

// Forget drops the key and the keys below it, and nothing else: a forgotten
// value is computed again, a kept one is not.
func TestForget(t *testing.T) {
	inv := New()
	computed := map[string]int{}
	memo := func(key string) {
		inv.Memo(key, func() any { computed[key]++; return key })
	}
	keys := []string{"psa", "psa/extra", "psax", "netpol", "inventory/podspecs"}
	for _, k := range keys {
		memo(k)
	}
	inv.Forget("psa")
	for _, k := range keys {
		memo(k)
	}
	want := map[string]int{"psa": 2, "psa/extra": 2, "psax": 1, "netpol": 1, "inventory/podspecs": 1}
	for k, n := range want {
		if computed[k] != n {
			t.Errorf("%s computed %d times, want %d", k, computed[k], n)
		}
	}
}
