#!/usr/bin/env bash
# Stops the cluster that .ci/slurm-up.sh DIR started: its jobs, slurmd, slurmctld (by their pid files) and munged when
# slurm-up.sh started it. Its logs stay in DIR/log.
set -uo pipefail
dir=$(realpath -m "$1")
export SLURM_CONF=$dir/slurm.conf
[ -f "$SLURM_CONF" ] && scancel --full --quiet --user "$(id -un)" 2>/dev/null
stop() {  # stop PID [NAME]: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
for d in slurmd slurmctld; do
  [ -f "$dir/run/$d.pid" ] && stop "$(cat "$dir/run/$d.pid")"
done
if [ -f "$dir/run/munged.ours" ] && [ -f /run/munge/munged.pid ]; then stop "$(cat /run/munge/munged.pid)"; rm -f "$dir/run/munged.ours"; fi
exit 0
