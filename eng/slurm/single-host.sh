#!/usr/bin/env bash
# A complete single-host Slurm cluster for tests: munged, slurmctld and slurmd on this machine, everything (config,
# state, logs, sockets) under one directory, the host's own name as the only node.
#
#   eng/slurm/single-host.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf" once `srun hostname` answers
#   eng/slurm/single-host.sh stop DIR    # stops the three daemons by the pids recorded in DIR
#
# Needs root and Debian's slurm-wlm and munge packages (.ci/run installs them). Uses proctrack/linuxproc and
# task/none, so it needs no cgroups, and select/cons_tres, so several jobs share the host's CPUs.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi

stop() {
    for daemon in slurmd slurmctld munged; do
        if [ -f "$dir/$daemon.pid" ]; then
            pid=$(cat "$dir/$daemon.pid")
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
            rm -f "$dir/$daemon.pid"
        fi
    done
}

if [ "$command" = stop ]; then
    stop
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "single-host Slurm needs root" >&2
    exit 1
fi
for tool in munged slurmctld slurmd srun; do
    command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done

mkdir -p "$dir"/{munge,state,spool,log}
chmod 700 "$dir/munge"
dir=$(cd "$dir" && pwd)
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)

# A key of our own, so the machine's munge setup (if any) is neither needed nor touched.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

cat > "$dir/slurm.conf" <<CONF
ClusterName=ppsharp-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmctldPort=$((6817 + RANDOM % 1000 * 2))
SlurmdPort=$((7817 + RANDOM % 1000 * 2))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=5
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"

# Ready when a job step runs; bounded, so a broken setup fails here rather than in the tests.
for _ in $(seq 1 60); do
    if timeout 10 srun -N1 -n1 -t 1 hostname >/dev/null 2>&1; then
        echo "export SLURM_CONF=$SLURM_CONF"
        exit 0
    fi
    sleep 1
done
echo "Slurm did not answer srun within 60 s; logs in $dir/log" >&2
tail -n 20 "$dir"/log/*.log >&2 || true
stop
exit 1
