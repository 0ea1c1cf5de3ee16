package netpol

import "testing"

func TestCalicoSelector(t *testing.T) {
	web := map[string]string{"app": "web", "tier": "front", "kubernetes.io/metadata.name": "shop"}
	db := map[string]string{"app": "db", "role": "primary"}
	none := map[string]string{}
	tests := []struct {
		sel           string
		web, db, none bool
	}{
		{"", true, true, true},
		{"all()", true, true, true},
		{" all ( ) ", true, true, true},
		{"app == 'web'", true, false, false},
		{`app == "web"`, true, false, false},
		{"app != 'web'", false, true, true}, // != is true where the label is absent
		{"has(tier)", true, false, false},
		{"!has(tier)", false, true, true},
		{"! has(tier)", false, true, true},
		{"app in {'web', 'db'}", true, true, false},
		{"app in {}", false, false, false},
		{"app not in {'web'}", false, true, true},
		{"app == 'web' && tier == 'front'", true, false, false},
		{"app == 'db' || tier == 'front'", true, true, false},
		{"app == 'db' || app == 'web' && has(role)", false, true, false}, // && binds tighter
		{"(app == 'db' || app == 'web') && has(role)", false, true, false},
		{"(app == 'db' || app == 'web') && !has(role)", true, false, false},
		{"!(app == 'web')", false, true, true},
		{"kubernetes.io/metadata.name == 'shop'", true, false, false},
		{"app contains 'e'", true, false, false},
		{"app starts with 'd'", false, true, false},
		{"app ends with 'b'", true, true, false},
		{"has(all)", false, false, false}, // a label may be named like a function
		{"global()", false, false, false},
		{"allx == 'y' || app == 'db'", false, true, false},
		{"in == 'x'", false, false, false}, // keywords are labels where a label is due
	}
	for _, tc := range tests {
		s, err := parseCalicoSelector(tc.sel)
		if err != nil {
			t.Errorf("%q: %v", tc.sel, err)
			continue
		}
		for _, c := range []struct {
			name string
			l    map[string]string
			want bool
		}{{"web", web, tc.web}, {"db", db, tc.db}, {"none", none, tc.none}} {
			if got := s.matches(c.l); got != c.want {
				t.Errorf("%q on %s: %v, want %v", tc.sel, c.name, got, c.want)
			}
		}
	}
	for _, bad := range []string{
		"app", "app ==", "app == web", "app == 'web", "has(app", "(app == 'a'", "app == 'a' &&", "app == 'a' ||",
		"app in {'a' 'b'}", "app in 'a'", "&& app == 'a'", "app == 'a')", "app = 'a'", "!", "app == 'a' & b == 'c'",
	} {
		if _, err := parseCalicoSelector(bad); err == nil {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}
