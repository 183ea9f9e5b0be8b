# this project's 2-core CPU machine, 2026-12-06: the check against the forward scan before the fix (scan.py of
# a85ac32^, the rest of src/ of this commit a18f49b), which must exit 1 and name the dt_proj weight read
rm -rf /tmp/old_scan_tree && cp -r src /tmp/old_scan_tree
git show a85ac32^:src/rmeeto/ops/triton/scan.py > /tmp/old_scan_tree/rmeeto/ops/triton/scan.py
PYTHONPATH=/tmp/old_scan_tree python scripts/check_kernel_bounds.py --r 0 2>&1 | grep -v "^$" | grep -v -i warn
echo "exit ${PIPESTATUS[0]}"
