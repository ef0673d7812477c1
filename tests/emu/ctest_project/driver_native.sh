#!/bin/sh
# ctest (this script's parent) and this shell run on the real CPU: neither
# has QEMU mapped. Under an emulator running the driver they would.
for pid in $PPID $$; do
  if grep -q qemu "/proc/$pid/maps"; then
    echo "process $pid ($(cat /proc/$pid/comm)) runs under QEMU" >&2
    exit 1
  fi
done
echo "ctest and sh run natively"
