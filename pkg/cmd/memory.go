package cmd

import (
	"os"
	"runtime/debug"
)

// The garbage collector's targets of an audit (debug.SetGCPercent), when the
// user sets no GOGC. Go's default, 100, collects when the heap has doubled
// since the last collection; an audit's heap is mostly the inventory, which
// lives until the report is made, so that default would let a big cluster's
// run grow to about twice what it holds. While the inventory is read the
// allocation rate is high and garbage is most of what is allocated, so the
// target is only halved there; once it is read, the checks allocate little
// beside it and the collector runs when the heap has grown by a quarter. On a
// 50,000-pod cluster the two cut the peak memory by about a sixth (the first
// 25 MB of it for ~7% more CPU, the second 55 MB for ~3%; test/bench/README.md).
const (
	loadingGCPercent   = 50
	afterLoadGCPercent = 25
)

// gcWhileLoading sets the collector's target for reading the inventory.
func gcWhileLoading() { setGCPercent(loadingGCPercent) }

// tightenGC is called once an audit's inventory is read (audit.Config.Loaded).
func tightenGC() { setGCPercent(afterLoadGCPercent) }

// setGCPercent leaves alone a GOGC the user sets.
func setGCPercent(p int) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(p)
}
