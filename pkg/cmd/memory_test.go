package cmd

import "testing"

// After the inventory is read, a small heap may grow by a quarter, a big one
// by afterLoadHeadroom, never by less than 6%.
func TestAfterLoadGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 25}, {1 << 20, 25}, {32 << 20, 25}, {40 << 20, 20}, {105 << 20, 7}, {120 << 20, 6}, {2 << 30, 6},
	} {
		if got := afterLoadGCPercent(c.live); got != c.want {
			t.Errorf("afterLoadGCPercent(%d MB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}
