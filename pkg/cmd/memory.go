package cmd

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// The garbage collector's targets of an audit (debug.SetGCPercent), when the
// user sets no GOGC. Go's default, 100, collects when the heap has doubled
// since the last collection; an audit's heap is mostly the inventory, which
// lives until the report is made, so that default would let a big cluster's
// run grow to about twice what it holds. While the inventory is read the
// allocation rate is high and garbage is most of what is allocated, so the
// target is only halved there. Once it is read, the checks allocate little
// beside it, and the collector runs when the heap has grown by about
// afterLoadHeadroom over what is live, a quarter at most: on a small cluster
// a quarter is a few megabytes and collecting more often only costs time,
// on a 50,000-pod one a quarter of ~180 MB live would be 45 MB more memory
// and its fragmentation. 8 MB and 6% there gave ~5 MB less peak RSS for 3.4 s
// more collection CPU (45% more), once returnFreed hands back what each
// domain frees (test/bench/README.md has the figures).
const (
	loadingGCPercent      = 50
	afterLoadHeadroom     = 12 << 20
	minAfterLoadGCPercent = 10
	maxAfterLoadGCPercent = 25
)

// gcWhileLoading sets the collector's target for reading the inventory.
func gcWhileLoading() { setGCPercent(loadingGCPercent) }

// tightenGC is called once an audit's inventory is read (audit.Config.Loaded).
func tightenGC() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live uint64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = s[0].Value.Uint64()
	}
	setGCPercent(afterLoadGCPercent(live))
}

// afterLoadGCPercent is the target that lets a heap of live bytes grow by
// afterLoadHeadroom, within [minAfterLoadGCPercent, maxAfterLoadGCPercent].
func afterLoadGCPercent(live uint64) int {
	p := uint64(maxAfterLoadGCPercent)
	if live > 0 {
		p = afterLoadHeadroom * 100 / live
	}
	return int(min(max(p, minAfterLoadGCPercent), maxAfterLoadGCPercent))
}

// setGCPercent leaves alone a GOGC the user sets.
func setGCPercent(p int) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(p)
}

// returnFreed is called each time the audit has forgotten a domain's
// analyses (audit.Config.Released): it collects and hands what they held
// back to the system at once, instead of the runtime's gradual scavenging,
// so the next domain's analysis reuses fresh pages rather than the resident
// size growing over what the heap holds (a 50,000-pod cluster's peak RSS
// falls by ~30 MB at the same CPU; a forced collection costs ~0.1 s there).
// A GOGC the user sets leaves the collector to them.
func returnFreed(string) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.FreeOSMemory()
}
