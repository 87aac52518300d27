# Pieces of Scripts/bench: starting and stopping what it measures, timing, recording.
# Expects: $bin (NetStore executables), $tmp (the run's temp directory), $results.

declare -A pid=()      # what this run started, by name: main-primary, q1-mount, sshd, sshfs, ...
declare -A servers=()  # a cluster's server list, by cluster name
declare -A peak=([mount]=0 [sshfs]=0)  # peak VmHWM (KiB) over every process of a kind
made_run_sshd=0

die() { echo "error: $*" >&2; exit 1; }

# phase MESSAGE: progress, with the seconds since the start.
phase() { echo "[$(printf '%4d' "$SECONDS") s] $*"; }

# Stops everything this run started; runs on every exit (trap).
cleanup() {
    local status=$? name mnt
    set +e
    trap - INT TERM
    for mnt in "$tmp"/*/mnt "$tmp/sshfs-mnt"; do
        if mountpoint -q "$mnt" 2>/dev/null; then
            fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
        fi
    done
    for name in "${!pid[@]}"; do
        kill -0 "${pid[$name]}" 2>/dev/null && kill -TERM "${pid[$name]}" 2>/dev/null
    done
    for name in "${!pid[@]}"; do
        stop_process "${pid[$name]}" "$name"
    done
    ((made_run_sshd)) && rmdir /run/sshd 2>/dev/null
    if ((keep)); then
        echo "kept $tmp"
    elif [[ -n "${tmp:-}" && -d "$tmp" ]]; then
        rm -rf "$tmp"
    fi
    ((status == 0)) || echo "bench failed (exit $status); logs were in $tmp (run with --keep to keep them)" >&2
    exit "$status"
}

# stop_process PID [NAME]: SIGTERM, up to 30 s for a graceful exit, then SIGKILL.
# Says so when the process had crashed or crashes on the way out.
stop_process() {
    local p=$1 name=${2:-process} i status=0
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || status=$?
    if ((status > 128 && status != 143)); then
        echo "warning: $name (pid $p) ended by signal $((status - 128)) instead of exiting on SIGTERM" >&2
    fi
    return 0
}

# free_ports N: N TCP ports on 127.0.0.1 that were free a moment ago.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# wait_for WHAT PID LOG COMMAND...: polls COMMAND until it succeeds (60 s), failing
# with the log when the process PID exits first or time runs out.
wait_for() {
    local what=$1 p=$2 log=$3 deadline=$((SECONDS + 60))
    shift 3
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$p" 2>/dev/null; then
            tail -n 30 "$log" >&2
            die "$what: the process exited; see above"
        fi
        ((SECONDS < deadline)) || { tail -n 30 "$log" >&2; die "$what: not ready within 60 s"; }
        sleep 0.1
    done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

vm_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# note_peak KIND PID: keeps the largest VmHWM seen for processes of KIND.
note_peak() {
    local kib
    kib=$(vm_hwm "$2")
    kib=${kib:-0}
    ((kib > peak[$1])) && peak[$1]=$kib
    return 0
}

# --- NetStore ------------------------------------------------------------------

# cluster_cli CLUSTER ARGS...: the netstore command line, logged in as the cluster's user.
cluster_cli() {
    local name=$1
    shift
    XDG_CONFIG_HOME="$tmp/$name/config" "$bin/netstore" "$@" --server "${servers[$name]}"
}

# start_cluster NAME QUORUM: a primary and two backups (QUORUM empty: the default),
# an admin, a user `bench`, and `netstore login` as that user.
start_cluster() {
    local name=$1 quorum=$2 base="$tmp/$1" p0 p1 p2
    mkdir -p "$base"/{config,admin-config,mnt,logs}
    read -r p0 p1 p2 < <(free_ports 3)
    servers[$name]="127.0.0.1:$p0,127.0.0.1:$p1,127.0.0.1:$p2"
    (umask 077; head -c 32 /dev/urandom | base64 >"$base/cluster.key")
    # Backups first: a primary waits for a majority before it serves.
    start_server "$name" backup1 backup "$p1" "" "$p0" "$p2"
    start_server "$name" backup2 backup "$p2" "" "$p0" "$p1"
    start_server "$name" primary primary "$p0" "$quorum" "$p1" "$p2"
    # A primary that cannot reach enough backups the moment it first takes office
    # exits (it cannot create the first admin yet): start it again.
    local restarts=0 deadline=$((SECONDS + 60))
    until "$bin/netstore" status --server "127.0.0.1:$p0" >/dev/null 2>&1; do
        if ! kill -0 "${pid[$name-primary]}" 2>/dev/null; then
            wait "${pid[$name-primary]}" 2>/dev/null || true
            if ((++restarts > 3)); then
                tail -n 30 "$base/logs/primary.log" >&2
                die "the $name primary exited at start $restarts times; see above"
            fi
            echo "the $name primary exited at start (see $base/logs/primary.log); starting it again" >&2
            start_server "$name" primary primary "$p0" "$quorum" "$p1" "$p2"
        fi
        ((SECONDS < deadline)) || { tail -n 30 "$base/logs/primary.log" >&2; die "the $name primary did not answer within 60 s"; }
        sleep 0.1
    done
    local adminpw="$base/primary/admin-password" userpw="$base/user-password"
    (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$userpw")
    # The primary answers before its first admin exists (the account is created
    # once the cluster has agreed on a term): wait for the password, retry the login.
    deadline=$((SECONDS + 30))
    until [[ -s "$adminpw" ]] && XDG_CONFIG_HOME="$base/admin-config" "$bin/netstore" login admin --password-file "$adminpw" \
        --server "${servers[$name]}" >/dev/null 2>"$base/logs/admin-login.log"; do
        ((SECONDS < deadline)) || { cat "$base/logs/admin-login.log" >&2; die "no admin login on the $name cluster within 30 s"; }
        sleep 0.2
    done
    XDG_CONFIG_HOME="$base/admin-config" "$bin/netstore" user add bench --password-file "$userpw" \
        --server "${servers[$name]}" >>"$base/logs/cli.log" 2>&1 || { cat "$base/logs/cli.log" >&2; die "user add failed"; }
    cluster_cli "$name" login bench --password-file "$userpw" >>"$base/logs/cli.log" 2>&1 ||
        { cat "$base/logs/cli.log" >&2; die "netstore login failed"; }
    echo "NetStore cluster $name: ${servers[$name]}${quorum:+, write quorum $quorum}"
}

# start_server CLUSTER NAME ROLE PORT QUORUM OTHER-PORTS...
start_server() {
    local cluster=$1 name=$2 role=$3 port=$4 quorum=$5 base="$tmp/$1" other replicas=()
    shift 5
    for other in "$@"; do replicas+=(--replica "127.0.0.1:$other"); done
    local extra=()
    [[ -n "$quorum" ]] && extra=(--write-quorum "$quorum")
    "$bin/netstore-server" --role "$role" --listen "127.0.0.1:$port" --data "$base/$name" \
        "${replicas[@]}" --cluster-key-file "$base/cluster.key" "${extra[@]}" >>"$base/logs/$name.log" 2>&1 &
    pid[$cluster-$name]=$!
}

stop_cluster() {
    local name=$1 server
    for server in primary backup1 backup2; do
        stop_process "${pid[$name-$server]}" "$name-$server"
        unset "pid[$name-$server]"
    done
}

# mount_netstore CLUSTER [OPTIONS]: netstore-mount of the user's files on
# $tmp/CLUSTER/mnt, with its block cache in $tmp/CLUSTER/cache; OPTIONS are
# more -o options (writeback).
mount_netstore() {
    local name=$1 base="$tmp/$1" mount_options=${2:-}
    XDG_CONFIG_HOME="$base/config" "$bin/netstore-mount" "$base/mnt" -f --server "${servers[$name]}" \
        -o "cache=$base/cache${mount_options:+,$mount_options}" >>"$base/logs/mount.log" 2>&1 &
    pid[$name-mount]=$!
    wait_for "netstore-mount of $name" "${pid[$name-mount]}" "$base/logs/mount.log" mountpoint -q "$base/mnt"
}

# unmount_netstore CLUSTER: unmounting makes netstore-mount flush and exit.
unmount_netstore() {
    local name=$1 p=${pid[$1-mount]}
    note_peak mount "$p"
    fusermount3 -u "$tmp/$name/mnt"
    wait_exit "$p" "netstore-mount"
    unset "pid[$name-mount]"
}

note_mount_memory() { note_peak mount "${pid[$1-mount]}"; }

# wait_exit PID WHAT: a process asked to stop has 60 s to do so.
wait_exit() {
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
        sleep 0.1
    done
    die "$2 (pid $1) did not exit within 60 s of its unmount"
}

cli_put_each() {
    local name=$1 f
    for f in "$2"/*; do
        cluster_cli "$name" put "$f" "/cli-$(basename "$f")" || return 1
    done
}

# --- sshfs through an OpenSSH server of this run's own --------------------------

start_sshd() {
    local ssh="$tmp/ssh"
    mkdir -m 700 "$ssh"
    ssh-keygen -q -t ed25519 -N '' -C netstore-bench-host -f "$ssh/host_key"
    ssh-keygen -q -t ed25519 -N '' -C netstore-bench-user -f "$ssh/id_ed25519"
    cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys"
    ssh_port=$(free_ports 1)
    cat >"$ssh/sshd_config" <<CONFIG
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $ssh/host_key
PidFile $ssh/sshd.pid
AuthorizedKeysFile $ssh/authorized_keys
AllowUsers $(id -un)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
CONFIG
    # sshd insists on its privilege separation directory.
    if [[ ! -d /run/sshd ]] && ((EUID == 0)); then
        mkdir -m 755 /run/sshd
        made_run_sshd=1
    fi
    /usr/sbin/sshd -D -e -f "$ssh/sshd_config" >>"$tmp/sshd.log" 2>&1 &
    pid[sshd]=$!
    wait_for "sshd on 127.0.0.1:$ssh_port" "${pid[sshd]}" "$tmp/sshd.log" port_open "$ssh_port"
    echo "sshd on 127.0.0.1:$ssh_port"
}

mount_sshfs() {
    mkdir -p "$tmp/sshfs-backing" "$tmp/sshfs-mnt"
    sshfs "$(id -un)@127.0.0.1:$tmp/sshfs-backing" "$tmp/sshfs-mnt" -f -p "$ssh_port" -F /dev/null \
        -o "IdentityFile=$tmp/ssh/id_ed25519,IdentitiesOnly=yes,BatchMode=yes" \
        -o "StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR" >>"$tmp/sshfs.log" 2>&1 &
    pid[sshfs]=$!
    wait_for "sshfs" "${pid[sshfs]}" "$tmp/sshfs.log" mountpoint -q "$tmp/sshfs-mnt"
}

unmount_sshfs() {
    local p=${pid[sshfs]}
    note_peak sshfs "$p"
    fusermount3 -u "$tmp/sshfs-mnt"
    wait_exit "$p" sshfs
    unset "pid[sshfs]"
}

note_sshfs_memory() { note_peak sshfs "${pid[sshfs]}"; }

# --- measuring ------------------------------------------------------------------

can_drop_caches() { [[ -w /proc/sys/vm/drop_caches ]] && ((EUID == 0)); }

drop_caches() {
    sync
    if can_drop_caches; then echo 3 >/proc/sys/vm/drop_caches; fi
}

# cold TARGET: nothing of the target's data left in any cache: FUSE mounts are
# remounted (NetStore's block cache wiped), then the kernel's caches dropped.
cold() {
    case $1 in
        netstore)
            unmount_netstore main
            rm -rf "$tmp/main/cache"
            mount_netstore main
            ;;
        sshfs)
            unmount_sshfs
            mount_sshfs
            ;;
    esac
    drop_caches
}

# timed COMMAND...: runs COMMAND (output discarded) and prints the seconds it
# took, or "failed" (the failure is a result: the run goes on).
timed() {
    local start end status=0
    start=$(date +%s.%N)
    "$@" >/dev/null || status=$?
    end=$(date +%s.%N)
    if ((status != 0)); then
        echo "warning: '$*' failed (exit $status)" >&2
        echo failed
        return 0
    fi
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f", e - s }'
}

# whole FILE BYTES: the file has its full size (a write that failed may leave
# less, and reading less would look fast).
whole() {
    local size
    size=$(stat -c %s "$1" 2>/dev/null || echo 0)
    ((size == $2)) || { echo "warning: $1 has $size bytes, not $2: its reads are not measured" >&2; return 1; }
}

# per COUNT SECONDS: a rate ("failed" stays so).
per() {
    if is_number "$2"; then awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / (s > 0 ? s : 1e-9) }'; else echo failed; fi
}

is_number() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

# record ID LABEL UNIT TARGET VALUE: one figure of the comparison table; a
# workload that failed is recorded as such (no figure) and the run goes on.
record() {
    local value=$5
    is_number "$value" || { echo "warning: $2 on $4 failed" >&2; value=failed; }
    printf 'row\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$value" >>"$results"
    printf '[%4d s]   %-44s %-9s %12s %s\n' "$SECONDS" "$2" "$4" "$value" "$3"
}

# repl ID LABEL UNIT QUORUM VALUE: one figure of the replication cost.
repl() {
    local value=$5
    is_number "$value" || { echo "warning: $2 at write quorum $4 failed" >&2; value=failed; }
    set -- "$1" "$2" "$3" "$4" "$value"
    printf 'repl\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
    printf '[%4d s]   %-44s quorum %s %12s %s\n' "$SECONDS" "$2" "$4" "$5" "$3"
}

# fio_randread FILE JOBS: IOPS of buffered random 4 KiB reads, queue depth 1 per job.
fio_randread() {
    fio --name=randread --filename="$1" --rw=randread --bs=4k --ioengine=psync --iodepth=1 \
        --numjobs="$2" --size="${big_mib}M" --time_based --runtime="$fio_seconds" --invalidate=1 \
        --group_reporting --output-format=json 2>>"$tmp/fio.log" |
        python3 -c 'import json, sys
text = sys.stdin.read()
print(round(json.loads(text[text.index("{"):])["jobs"][0]["read"]["iops"], 3))'
}

size_label() { (($1 >= 1024)) && echo "$(($1 / 1024)) GiB" || echo "$1 MiB"; }

machine_description() {
    local cpu mem os
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
    os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
    echo "$(nproc) cores ($cpu), $mem GiB RAM, ${os:-Linux} (kernel $(uname -r)), all on loopback"
}
