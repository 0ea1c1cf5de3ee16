package cmd

import (
	"os"
	"runtime/debug"
)

// afterLoadGCPercent is the garbage collector's target once the inventory is
// read (see tightenGC).
const afterLoadGCPercent = 25

// tightenGC is called once an audit's inventory is read. From then on most of
// the heap is the inventory, which lives until the report is made, and the
// checks allocate little beside it; Go's default target (collect when the heap
// has doubled since the last collection) would let a big cluster's run grow to
// twice its live memory for a saving of CPU that is small at that allocation
// rate. Collecting when the heap has grown by a quarter cut the peak of a
// 50,000-pod audit by about 15% for about 3% more CPU (test/bench/README.md).
// A GOGC the user sets rules: it is left alone.
func tightenGC() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(afterLoadGCPercent)
}
