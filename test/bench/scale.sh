#!/usr/bin/env bash
# Measures an offline audit of a synthetic cluster against the decode floor:
# wall time, CPU time and peak RSS of each (GNU time), and the report's size.
#   test/bench/scale.sh S        # or M, or nsN
# Results go to stdout as a Markdown table row; the generated files stay in
# ${HARDEN_SCALE_DIR:-/tmp/kubectl-harden-scale}/SIZE for reruns.
set -euo pipefail
size=${1:-S}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${HARDEN_SCALE_DIR:-/tmp/kubectl-harden-scale}
dir=$work/$size
bin=$work/bin
mkdir -p "$bin"
# kubectl-harden is built as the release builds it (.goreleaser.yaml): static and without a symbol
# table, which also keeps ~20 MB of the binary out of the peak RSS.
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/kubectl-harden" . && go build -o "$bin/decodefloor" ./test/bench/cmd/decodefloor && go build -o "$bin/synth" ./test/bench/cmd/synth)
if [ ! -f "$dir/pods.yaml" ]; then
	"$bin/synth" -size "$size" -o "$dir"
fi
input=$(du -sm "$dir" | cut -f1)

measure() { # label, command...
	local label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err" >&2; }
	read -r wall user sys rss < "$work/time.txt"
	local cpu
	cpu=$(echo "$user + $sys" | bc)
	printf '| %s | %s | %.1f s | %.1f s | %d MB | %s |\n' "$size" "$label" "$wall" "$cpu" $((rss / 1024)) "$(du -m "$work/out" | cut -f1) MB out"
}

echo "| size | run ($input MB of YAML) | wall | CPU | peak RSS | output |"
echo "|---|---|---|---|---|---|"
measure "decode floor" "$bin/decodefloor" "$dir"
measure "kubectl harden -f DIR -o json" "$bin/kubectl-harden" -f "$dir" --complete -o json
measure "kubectl harden -f DIR -o name" "$bin/kubectl-harden" -f "$dir" --complete -o name
measure "kubectl harden -f DIR (table)" "$bin/kubectl-harden" -f "$dir" --complete
