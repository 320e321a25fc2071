#!/usr/bin/env bash
# Starts a single-node Slurm cluster (slurmctld and slurmd on this machine) with its configuration, state, spool
# and logs under one folder, for the job-array test. Needs root and Debian's slurm-wlm and munge.
# usage: .ci/slurm-up.sh DIR   -> DIR/slurm.conf, DIR/env (source it: exports SLURM_CONF); stop with .ci/slurm-down.sh DIR
set -euo pipefail
dir=$(realpath -m "$1")
case "$dir" in *[[:space:]]*) echo "slurm-up.sh: $dir: slurm.conf cannot hold a path with spaces; choose another folder" >&2; exit 2 ;; esac
mkdir -p "$dir"/{state,spool,log,run}
host=$(hostname -s)
cpus=$(nproc); mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
# Ports of our own, so that a cluster of the machine (default 6817/6818) is not disturbed.
cat >"$dir/slurm.conf" <<CONF
ClusterName=flatminima
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env"
# munge authenticates Slurm's daemons and commands; start it unless it runs, and remember that we did.
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  [ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key 2>/dev/null; chown munge:munge /etc/munge/munge.key; }
  if [ "$(id -u)" = 0 ]; then runuser -u munge -- munged || munged --force; else munged; fi
  touch "$dir/run/munged.ours"
fi
slurmctld -f "$dir/slurm.conf"
slurmd -f "$dir/slurm.conf"
for i in $(seq 1 120); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then echo "slurm up in $((i / 2)).$((i % 2 * 5))s (SLURM_CONF=$dir/slurm.conf)"; exit 0; fi
  sleep 0.5
done
echo "slurm did not come up; logs in $dir/log:" >&2; tail -n 20 "$dir"/log/*.log >&2 || true; exit 1
