#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1 for bench's tests and for trying `bench run --executor slurm`:
# munged, slurmctld and slurmd as plain background processes (no systemd), with every file under one folder.
#
#   scripts/slurm-dev-cluster.sh up       # write the config, start munge, slurmctld and slurmd; wait until the node is idle
#   scripts/slurm-dev-cluster.sh status   # what runs, and `sinfo`
#   scripts/slurm-dev-cluster.sh down     # stop the three daemons (the folder stays, with its logs)
#   eval "$(scripts/slurm-dev-cluster.sh env)"   # SLURM_CONF for this shell, so srun/sbatch/squeue use the cluster
#
# It installs nothing: without the Debian packages slurm-wlm and munge it names them and exits 3.
# Settings (environment): SLURM_DEV_DIR (default /tmp/bench-slurm-dev-$UID), SLURM_DEV_CTLD_PORT (16817),
# SLURM_DEV_SLURMD_PORT (16818), SLURM_DEV_PARTITION (debug). Everything binds to 127.0.0.1: the node's address is
# 127.0.0.1, and CommunicationParameters=NoInAddrAny,NoCtldInAddrAny stops the daemons binding to all addresses.
set -euo pipefail

DIR="${SLURM_DEV_DIR:-/tmp/bench-slurm-dev-$(id -u)}"
CTLD_PORT="${SLURM_DEV_CTLD_PORT:-16817}"
SLURMD_PORT="${SLURM_DEV_SLURMD_PORT:-16818}"
PARTITION="${SLURM_DEV_PARTITION:-debug}"
CONF="$DIR/slurm.conf"
SOCKET="$DIR/munge/munge.socket"
PATH="$PATH:/usr/sbin:/sbin"  # munged, slurmctld and slurmd live in sbin, which a user's PATH may lack

die() { echo "slurm-dev-cluster: $*" >&2; exit 1; }

need_packages() {
    local missing=()
    for cmd in munged munge unmunge mungekey; do command -v "$cmd" >/dev/null || { missing+=(munge); break; }; done
    for cmd in slurmctld slurmd sinfo srun sbatch scancel; do command -v "$cmd" >/dev/null || { missing+=(slurm-wlm); break; }; done
    if ((${#missing[@]})); then
        echo "slurm-dev-cluster: missing the Debian package(s) ${missing[*]}: apt-get install -y ${missing[*]}" >&2
        exit 3
    fi
}

pid_of() {  # the pid in $1 if that process still runs
    [[ -s "$1" ]] || return 1
    local pid
    pid="$(cat "$1")"
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
    local user cpus mem
    user="$(id -un)"
    # The node's CPUs and memory as slurmd sees them, so it registers instead of draining itself.
    cpus="$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)"
    mem="$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)"
    mkdir -p "$DIR"/{munge,state,spool,log}
    chmod 700 "$DIR" "$DIR/munge"
    if [[ ! -s "$DIR/munge/munge.key" ]]; then
        mungekey --create --keyfile="$DIR/munge/munge.key" 2>/dev/null ||
            (umask 077 && dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none)
        chmod 600 "$DIR/munge/munge.key"
    fi
    cat >"$CONF" <<EOF
# Written by scripts/slurm-dev-cluster.sh: one node on 127.0.0.1, no accounting, no cgroups.
ClusterName=benchdev
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
    need_packages
    write_config
    export SLURM_CONF="$CONF"
    if ! pid_of "$DIR/munged.pid" >/dev/null; then
        munged --force --socket="$SOCKET" --key-file="$DIR/munge/munge.key" --pid-file="$DIR/munged.pid" \
            --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" ||
            die "munged did not start; see $DIR/log/munged.log"
    fi
    munge -n -S "$SOCKET" | unmunge -S "$SOCKET" >/dev/null || die "munge -n | unmunge failed; see $DIR/log/munged.log"
    if ! pid_of "$DIR/slurmctld.pid" >/dev/null; then
        setsid slurmctld -D -i -f "$CONF" >>"$DIR/log/slurmctld.out" 2>&1 </dev/null &
        echo $! >"$DIR/slurmctld.pid"
    fi
    if ! pid_of "$DIR/slurmd.pid" >/dev/null; then
        setsid slurmd -D -N localhost -f "$CONF" >>"$DIR/log/slurmd.out" 2>&1 </dev/null &
        echo $! >"$DIR/slurmd.pid"
    fi
    local state=""
    for _ in $(seq 60); do
        state="$(sinfo -h -n localhost -o %t 2>/dev/null || true)"
        [[ "$state" == idle* || "$state" == mix* || "$state" == alloc* ]] && break
        sleep 0.5
    done
    if [[ "$state" != idle* && "$state" != mix* && "$state" != alloc* ]]; then
        die "the node did not come up (state '${state:-no answer}'); see $DIR/log/slurmctld.log and $DIR/log/slurmd.log"
    fi
    echo "slurm dev cluster up: node localhost on 127.0.0.1, partition $PARTITION ($DIR)"
    echo "export SLURM_CONF=$CONF"
}

down() {
    local name pid
    for name in slurmd slurmctld munged; do
        pid="$(pid_of "$DIR/$name.pid" || true)"
        [[ -n "$pid" ]] || continue
        kill "$pid"
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        rm -f "$DIR/$name.pid"
    done
    echo "slurm dev cluster down ($DIR)"
}

status() {
    local name pid rc=0
    for name in munged slurmctld slurmd; do
        if pid="$(pid_of "$DIR/$name.pid")"; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; rc=1; fi
    done
    if ((rc == 0)); then SLURM_CONF="$CONF" sinfo; fi
    return $rc
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
