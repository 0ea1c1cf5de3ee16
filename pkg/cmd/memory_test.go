package cmd

import "testing"

// After the inventory is read, a small heap may grow by a quarter, a big one
// by afterLoadHeadroom, never by less than a tenth.
func TestAfterLoadGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 25}, {1 << 20, 25}, {48 << 20, 25}, {60 << 20, 20}, {105 << 20, 11}, {120 << 20, 10}, {2 << 30, 10},
	} {
		if got := afterLoadGCPercent(c.live); got != c.want {
			t.Errorf("afterLoadGCPercent(%d MB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
