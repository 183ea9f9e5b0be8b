#!/usr/bin/env bash
# This project's 2-core CPU machine: compile the forward scan kernel for sm_90 at two commits (scripts/inspect_scan_sass.py
# with Triton's bundled ptxas) and compare the SASS instruction by instruction, in the four variants a launch can
# take (both directions in one program or one, step-serial or chunked, with and without z, with masked loads). NEW's
# inspect_scan_sass.py compiles both trees. TRITON_PATH (optional) is put first on PYTHONPATH, to compile with another
# Triton than the installed one. Run from the repository root:
#   [TRITON_PATH=dir] bash docs/benchmarks/2026-12-02-cpu-scan-loads/sass_command.sh OLD NEW
set -euo pipefail
old=$1 new=$2
tmp=$(mktemp -d)
pre=${TRITON_PATH:+$TRITON_PATH:}
cuobjdump=$(PYTHONPATH=$pre python3 -c "import triton, os; print(os.path.join(os.path.dirname(triton.__file__), 'backends/nvidia/bin/cuobjdump'))")
for rev in $old $new; do git worktree add -q --detach $tmp/$rev $rev; done
echo "triton $(PYTHONPATH=$pre python3 -c 'import triton; print(triton.__version__)')"
for variant in "2" "1" "2 --h0" "1 --h0" "2 --no-z" "1 --no-z" "2 --uneven" "1 --uneven"; do
  set -- $variant
  for rev in $old $new; do
    mkdir -p $tmp/out/$rev
    PYTHONPATH=$pre$tmp/$rev/src python3 $tmp/$new/scripts/inspect_scan_sass.py --kernel fwd --ndir $1 ${2:-} \
      --keep $tmp/out/$rev > $tmp/out/$rev/report.txt 2>&1
    "$cuobjdump" -sass $tmp/out/$rev/kernel.cubin 2>/dev/null | grep -E '^\s+/\*[0-9a-f]{4}\*/' \
      | sed 's@/\*[0-9a-f]*\*/@@; s@;.*@@' > $tmp/out/$rev/sass.txt
  done
  echo "fwd --ndir $1 ${2:-}: $old $(wc -l < $tmp/out/$old/sass.txt) instructions, $(head -3 $tmp/out/$old/report.txt | tail -1);" \
       "$new $(wc -l < $tmp/out/$new/sass.txt), $(head -3 $tmp/out/$new/report.txt | tail -1);" \
       "instructions that differ: $(diff $tmp/out/$old/sass.txt $tmp/out/$new/sass.txt | grep -c '^[<>]' || true)"
done
for rev in $old $new; do git worktree remove --force $tmp/$rev; done
rm -rf $tmp
