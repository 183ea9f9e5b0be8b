export PYTHONPATH=$PWD/src
S="--section SpeedOfLight --section WarpStateStats --section SchedulerStats --section Occupancy --section ComputeWorkloadAnalysis --section InstructionStats --section LaunchStats"
ncu --clock-control none --kernel-name regex:"_scan_fwd_seq_kernel" $S python3 tmp_ncu.py 128x768x197 > $OUT/ncu.txt 2>&1
tail -5 $OUT/ncu.txt
