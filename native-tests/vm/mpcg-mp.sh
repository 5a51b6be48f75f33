#!/bin/sh
# mpcg-mp: multipathd control for the VM's multipathd scenarios (busybox sh).
# Installed as /usr/bin/mpcg-mp by multipathd.ts; JSON lines on stdout.
#
#   mpcg-mp udev                 starts systemd-udevd once per boot
#   mpcg-mp start CHECKER [PREFIX]
#                                /etc/mpcg/multipath-CHECKER.conf becomes
#                                /etc/multipath.conf; udev trigger + settle;
#                                multipathd -d -s -v3 (log /tmp/multipathd.log)
#                                until its CLI answers; with PREFIX the
#                                multipathd of a tree: PREFIX/sbin/multipathd
#                                with its libraries from PREFIX/lib;
#                                MPCG_MP_VERBOSITY=N: -vN instead (-v3 logs a
#                                line per path check, `loaded` needs it);
#                                MPCG_MP_NOTRIGGER=1: no udev trigger (a restart)
#   mpcg-mp wait-map NPATHS TIMEOUT_MS
#                                one map with NPATHS paths and its
#                                /dev/mapper node; the node goes to /tmp/mpcg-map
#   mpcg-mp wait-paths TIMEOUT_MS[:HOLD_MS] DEV=PG/DM/CHK/DEVST ...
#                                polls until every path matches ("*" matches
#                                anything, "absent" = not listed by multipathd)
#                                and, with HOLD_MS, has kept matching on every
#                                poll for HOLD_MS; reports the time it first
#                                matched, the snapshot, multipathd's thread
#                                count and CLI latency (peak while waiting)
#   mpcg-mp wait-maps NMAPS NPATHS TIMEOUT_MS
#                                NMAPS maps of NPATHS paths each, every path
#                                checked (ready or ghost), for many-path runs
#   mpcg-mp cpu-cycles WARMUP N TIMEOUT_MS
#                                multipathd's CPU (utime + stime of
#                                /proc/PID/stat, every thread) over N checker
#                                cycles of every path in its maps, after
#                                WARMUP: a cycle is over when every path's
#                                SCSI device has completed one more command
#                                (sysfs iodone_cnt: the checker's command;
#                                nothing else sends any with prio sysfs)
#   mpcg-mp reconfigure NMAPS NPATHS TIMEOUT_MS
#                                `multipathd reconfigure` (every path freed,
#                                the checker plugins unloaded, then loaded
#                                again); reports whether the daemon survived
#                                (same pid, maps back) and any segfault the
#                                kernel logged
#   mpcg-mp loaded               the checker plugins multipathd's log says it
#                                loaded (full paths)
#   mpcg-mp stop                 stops multipathd and removes its maps
#   mpcg-mp log [N]              last N lines of multipathd's log
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib:/lib/multipath
SNAP=/tmp/mpcg-mp.snap
LOG=/tmp/multipathd.log

# now: ms since boot from /proc/uptime (10 ms resolution, no fork; the same
# clock as vmstep's CLOCK_MONOTONIC as long as the VM never suspends)
now() {
	local up
	read -r up _ </proc/uptime
	echo $((${up%.*} * 1000 + 1${up#*.} * 10 - 1000))
}

mpd_pid() { pidof multipathd 2>/dev/null | awk '{print $1}'; }

threads() {
	local pid
	pid=$(mpd_pid)
	[ -n "$pid" ] || {
		echo -1
		return
	}
	awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo -1
}

# snapshot: "dev pg dm chk devst" lines in $SNAP (in chk, blanks become
# "_" and slashes go: "i/o pending" is io_pending) from `multipathd show topology`: pg is the state of the path's group
# (active, enabled, other). Paths that multipathd knows but that are in no
# map come from `show paths` with pg "none". CLI_MS: the longest CLI call
# (mpcli: the daemon's answer time, no client start-up). Returns non-zero
# when a CLI call failed, got no answer within 10 s, or the daemon answered
# "timeout" (it did not handle the command within uxsock_timeout, e.g.
# while its checker loop held the lock).
snapshot() {
	local t1 t2 t3
	: >"$SNAP"
	t1=$(now)
	# mpcli fails on "timeout"/"fail" answers and after 10 s without one
	mpcli show topology >/tmp/mpcg-mp.topo 2>&1 || return 1
	t2=$(now)
	CLI_MS=$((t2 - t1))
	: >/tmp/mpcg-mp.paths
	if [ "$1" = all ]; then
		mpcli show paths raw format "%d|%t|%o|%T" >/tmp/mpcg-mp.paths 2>&1 || return 1
		t3=$(now)
		[ $((t3 - t2)) -gt "$CLI_MS" ] && CLI_MS=$((t3 - t2))
	fi
	awk -v paths=/tmp/mpcg-mp.paths '
		/policy=/ {
			pg = "other"
			if ($0 ~ /status=active/) pg = "active"
			else if ($0 ~ /status=enabled/) pg = "enabled"
			next
		}
		{
			for (i = 1; i < NF - 3; i++)
				if ($i ~ /^[0-9]+:[0-9]+:[0-9]+:[0-9]+$/) {
					chk = $(i + 4)
					for (j = i + 5; j < NF; j++) chk = chk "_" $j
					gsub(/\//, "", chk)
					print $(i + 1), pg, $(i + 3), chk, $NF
					seen[$(i + 1)] = 1
					break
				}
		}
		END {
			while ((getline l < paths) > 0) {
				n = split(l, f, "|")
				if (n < 4) continue
				d = f[1]; gsub(/ /, "", d)
				if (d == "" || d in seen) continue
				dm = f[2]; gsub(/ /, "", dm)
				ds = f[3]; gsub(/ /, "", ds)
				chk = f[4]; sub(/ +$/, "", chk); gsub(/ /, "_", chk); gsub(/\//, "", chk)
				print d, "none", dm, chk, ds
			}
		}' /tmp/mpcg-mp.topo >"$SNAP"
}

snap_json() {
	awk 'BEGIN { printf "[" }
		{ printf "%s{\"dev\":\"%s\",\"pg\":\"%s\",\"dm\":\"%s\",\"chk\":\"%s\",\"devst\":\"%s\"}", (NR > 1 ? "," : ""), $1, $2, $3, $4, $5 }
		END { printf "]" }' "$SNAP"
}

# matches SPEC...: every DEV=PG/DM/CHK/DEVST ("*" any) or DEV=absent holds in $SNAP
matches() {
	awk -v specs="$*" '
		{ st[$1] = $2 "/" $3 "/" $4 "/" $5 }
		END {
			n = split(specs, s, " ")
			for (k = 1; k <= n; k++) {
				dev = s[k]; sub(/=.*/, "", dev); sub(/^\/dev\//, "", dev)
				want = s[k]; sub(/^[^=]*=/, "", want)
				if (want == "absent") { if (dev in st) exit 1; continue }
				if (!(dev in st)) exit 1
				split(want, w, "/"); split(st[dev], g, "/")
				for (i = 1; i <= 4; i++) if (w[i] != "*" && w[i] != g[i]) exit 1
			}
			exit 0
		}' "$SNAP"
}

cmd_udev() {
	if [ -z "$(pidof systemd-udevd)" ]; then
		mkdir -p /lib/systemd /run/udev
		[ -e /lib/systemd/systemd-udevd ] || ln -s /bin/udevadm /lib/systemd/systemd-udevd
		/lib/systemd/systemd-udevd --daemon --resolve-names=never || return 1
	fi
	udevadm settle -t 20
	echo "{\"event\":\"udev\",\"pid\":$(pidof systemd-udevd | awk '{print $1}')}"
}

cmd_start() {
	local checker="$1" prefix="$2" end t0
	[ -f "/etc/mpcg/multipath-$checker.conf" ] || {
		echo "no /etc/mpcg/multipath-$checker.conf"
		return 1
	}
	[ -z "$(mpd_pid)" ] || {
		echo "multipathd is already running"
		return 1
	}
	cp "/etc/mpcg/multipath-$checker.conf" /etc/multipath.conf
	# MPCG_MP_NOTRIGGER=1: the block devices' uevents were handled at an
	# earlier start (a restart over many paths: seconds per path under TCG)
	if [ -z "$MPCG_MP_NOTRIGGER" ]; then
		udevadm trigger --action=add --subsystem-match=block
		udevadm settle -t 20
	fi
	t0=$(now)
	if [ -n "$prefix" ]; then
		[ -x "$prefix/sbin/multipathd" ] || {
			echo "no $prefix/sbin/multipathd"
			return 1
		}
		LD_LIBRARY_PATH="$prefix/lib:$LD_LIBRARY_PATH" setsid "$prefix/sbin/multipathd" -d -s "-v${MPCG_MP_VERBOSITY:-3}" >"$LOG" 2>&1 </dev/null &
	else
		setsid multipathd -d -s "-v${MPCG_MP_VERBOSITY:-3}" >"$LOG" 2>&1 </dev/null &
	fi
	end=$((t0 + 20000))
	while ! mpcli -t 5000 show daemon >/dev/null 2>&1; do
		[ "$(now)" -lt "$end" ] || {
			echo "multipathd's CLI did not answer within 20 s"
			tail -n 30 "$LOG"
			return 1
		}
		usleep 100000
	done
	echo "{\"event\":\"multipathd-start\",\"checker\":\"$checker\",\"multipathd\":\"${prefix:-/sbin}${prefix:+/sbin}/multipathd\",\"pid\":$(mpd_pid),\"ms\":$(($(now) - t0))}"
}

cmd_wait_map() {
	local want="$1" tmo="$2" t0 end name n
	t0=$(now)
	end=$((t0 + tmo))
	while :; do
		set -- $(mpcli show maps raw format "%n %N" 2>/dev/null | head -n 1)
		name=$1
		n=$2
		if [ -n "$name" ] && [ "$n" = "$want" ] && [ -b "/dev/mapper/$name" ]; then
			echo "/dev/mapper/$name" >/tmp/mpcg-map
			snapshot all
			echo "{\"event\":\"map\",\"name\":\"$name\",\"paths\":$n,\"ms\":$(($(now) - t0)),\"snapshot\":$(snap_json)}"
			return 0
		fi
		if [ "$(now)" -ge "$end" ]; then
			echo "no map with $want paths within $tmo ms (first map: '$name' with '$n' paths)"
			multipathd show topology 2>&1
			ls -l /dev/mapper 2>&1
			tail -n 40 "$LOG"
			return 1
		fi
		usleep 100000
	done
}

cmd_wait_paths() {
	local tmo="${1%%:*}" hold=0 t0 end t2 cli max_cli=0 fails=0 th max_th=0 polls=0 ok mode=map first=
	case "$1" in *:*) hold=${1#*:} ;; esac
	shift
	case " $* " in *=absent\ *) mode=all ;; esac
	t0=$(now)
	end=$((t0 + tmo))
	while :; do
		snapshot "$mode"
		ok=$?
		t2=$(now)
		cli=$CLI_MS
		[ "$cli" -gt "$max_cli" ] && max_cli=$cli
		[ "$ok" -eq 0 ] || fails=$((fails + 1))
		th=$(threads)
		[ "$th" -gt "$max_th" ] && max_th=$th
		polls=$((polls + 1))
		if [ "$ok" -eq 0 ] && matches "$@"; then
			[ -n "$first" ] || first=$t2
		else
			first=
		fi
		if [ -n "$first" ] && [ $((t2 - first)) -ge "$hold" ]; then
			echo "{\"event\":\"paths\",\"matched\":true,\"ms\":$((first - t0)),\"t_ms\":$first,\"held_ms\":$((t2 - first)),\"polls\":$polls,\"cli_max_ms\":$max_cli,\"cli_failures\":$fails,\"threads\":$th,\"threads_max\":$max_th,\"snapshot\":$(snap_json)}"
			return 0
		fi
		if [ "$t2" -ge "$end" ]; then
			echo "{\"event\":\"paths\",\"matched\":false,\"ms\":$((t2 - t0)),\"t_ms\":$t2,\"held_ms\":$([ -n "$first" ] && echo $((t2 - first)) || echo 0),\"polls\":$polls,\"cli_max_ms\":$max_cli,\"cli_failures\":$fails,\"threads\":$th,\"threads_max\":$max_th,\"snapshot\":$(snap_json)}"
			cat /tmp/mpcg-mp.topo
			tail -n 40 "$LOG"
			return 1
		fi
		usleep 100000
	done
}

cmd_wait_maps() {
	local nmaps="$1" npaths="$2" tmo="$3" t0 end maps ok
	t0=$(now)
	end=$((t0 + tmo))
	while :; do
		maps=$(mpcli show maps raw format "%n %N" 2>/dev/null | awk -v n="$npaths" '$2 == n { c++ } END { print c + 0 }')
		ok=$(mpcli show paths raw format "%T" 2>/dev/null | awk '$1 == "ready" || $1 == "ghost" { c++ } END { print c + 0 }')
		if [ "$maps" -ge "$nmaps" ] && [ "$ok" -ge $((nmaps * npaths)) ]; then
			# the maps' uevents handled before anything is measured
			udevadm settle -t 60
			echo "{\"event\":\"maps\",\"maps\":$maps,\"paths_ok\":$ok,\"ms\":$(($(now) - t0))}"
			return 0
		fi
		if [ "$(now)" -ge "$end" ]; then
			echo "$maps maps of $npaths paths and $ok paths ready or ghost within $tmo ms; wanted $nmaps and $((nmaps * npaths))"
			mpcli show paths raw format "%d %T %t %o" 2>&1 | awk '$2 != "ready" && $2 != "ghost"' | head -n 20
			tail -n 40 "$LOG"
			return 1
		fi
		usleep 500000
	done
}

# iodone: "DEV COUNT" of every path in multipathd's maps (hex sysfs counter as a number)
iodone() {
	awk 'function hex(s, i, n) {
			s = tolower(s); sub(/^0x/, "", s); n = 0
			for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return n
		}
		{ f = FILENAME; sub(/^\/sys\/block\//, "", f); sub(/\/.*/, "", f); print f, hex($1) }' $IODONE_FILES
}

# checks_since BASE: "MIN MAX SUM" commands completed per path since BASE
checks_since() {
	iodone | awk -v base="$1" 'BEGIN { while ((getline l < base) > 0) { split(l, f, " "); b[f[1]] = f[2] } }
		{ d = $2 - b[$1]; if (min == "" || d < min) min = d; if (d > max) max = d; sum += d }
		END { print min + 0, max + 0, sum + 0 }'
}

cpu_ticks() { awk '{ print $14 + $15, $14, $15 }' "/proc/$1/stat"; }

cmd_cpu_cycles() {
	local warm="$1" n="$2" tmo="$3" pid t0 t1 end c0 c1 min max sum
	pid=$(mpd_pid)
	[ -n "$pid" ] || {
		echo "multipathd is not running"
		return 1
	}
	IODONE_FILES=$(mpcli show paths raw format "%d" | awk '{ printf "/sys/block/%s/device/iodone_cnt ", $1 }')
	[ -n "$IODONE_FILES" ] || {
		echo "multipathd lists no path"
		return 1
	}
	end=$(($(now) + tmo))
	iodone >/tmp/mpcg-mp.io0
	while :; do
		set -- $(checks_since /tmp/mpcg-mp.io0)
		[ "$1" -ge "$warm" ] && break
		[ "$(now)" -lt "$end" ] || {
			echo "warm-up: $1 to $2 checks per path within $tmo ms, wanted $warm"
			return 1
		}
		usleep 100000
	done
	# the measured cycles start at the first completed check after the warm-up
	iodone >/tmp/mpcg-mp.io1
	c0=$(cpu_ticks "$pid")
	t0=$(now)
	while :; do
		usleep 250000
		set -- $(checks_since /tmp/mpcg-mp.io1)
		min=$1 max=$2 sum=$3
		[ "$min" -ge "$n" ] && break
		[ "$(now)" -lt "$end" ] || {
			echo "$min to $max checks per path within $tmo ms, wanted $n"
			tail -n 20 "$LOG"
			return 1
		}
	done
	c1=$(cpu_ticks "$pid")
	t1=$(now)
	set -- $c0 $c1
	echo "{\"event\":\"cpu\",\"cycles\":$n,\"warmup\":$warm,\"paths\":$(echo $IODONE_FILES | wc -w),\"min_checks\":$min,\"max_checks\":$max,\"sum_checks\":$sum,\"wall_ms\":$((t1 - t0)),\"cpu_ticks\":$(($4 - $1)),\"utime_ticks\":$(($5 - $2)),\"stime_ticks\":$(($6 - $3)),\"clk_tck\":100,\"threads\":$(threads),\"rss_kb\":$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status),\"hwm_kb\":$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status),\"checkers\":[$(awk '$6 ~ /libcheck/ { print "\"" $6 "\"" }' /proc/$pid/maps | sort -u | tr '\n' ',' | sed 's/,$//')]}"
}

cmd_reconfigure() {
	local pid t0 alive=false back=false segv
	pid=$(mpd_pid)
	[ -n "$pid" ] || {
		echo "multipathd is not running"
		return 1
	}
	t0=$(now)
	mpcli reconfigure >/dev/null 2>&1
	if cmd_wait_maps "$1" "$2" "$3" >/tmp/mpcg-mp.reconf 2>&1; then back=true; fi
	[ -d "/proc/$pid" ] && [ "$(mpd_pid)" = "$pid" ] && alive=true
	segv=$(dmesg | grep -c 'multipathd.*segfault\|segfault.*multipathd')
	echo "{\"event\":\"reconfigure\",\"pid\":$pid,\"alive\":$alive,\"maps_back\":$back,\"segfaults\":$segv,\"ms\":$(($(now) - t0))}"
	$alive || tail -n 30 "$LOG"
	dmesg | grep 'segfault' | tail -n 5
}

cmd_stop() {
	local pid end rc=0 t0 t1 m
	t0=$(now)
	pid=$(mpd_pid)
	if [ -n "$pid" ]; then
		mpcli shutdown >/dev/null 2>&1 || kill "$pid"
		end=$(($(now) + 10000))
		while [ -d "/proc/$pid" ]; do
			if [ "$(now)" -ge "$end" ]; then
				echo "multipathd did not exit within 10 s; killing it"
				kill -9 "$pid"
				rc=1
				break
			fi
			usleep 100000
		done
	fi
	t1=$(now)
	# dmsetup, not `multipath -F` (that loads the whole configuration first:
	# seconds under TCG): stop queueing, then remove each map
	for m in $(dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" {print $1}'); do
		dmsetup message "$m" 0 fail_if_no_path >/dev/null 2>&1
		dmsetup remove --noudevsync --retry "$m" >/dev/null 2>&1 || {
			echo "cannot remove map $m"
			rc=1
		}
	done
	rm -f /tmp/mpcg-map
	echo "{\"event\":\"multipathd-stop\",\"exit_ms\":$((t1 - t0)),\"flush_ms\":$(($(now) - t1)),\"status\":$rc}"
	return $rc
}

case "$1" in
udev) cmd_udev ;;
start) cmd_start "$2" "$3" ;;
wait-map) cmd_wait_map "$2" "$3" ;;
wait-paths)
	shift
	cmd_wait_paths "$@"
	;;
wait-maps) cmd_wait_maps "$2" "$3" "$4" ;;
cpu-cycles) cmd_cpu_cycles "$2" "$3" "$4" ;;
reconfigure) cmd_reconfigure "$2" "$3" "$4" ;;
stop) cmd_stop ;;
log) tail -n "${2:-40}" "$LOG" ;;
loaded)
	# 0.9.4 logs "loading /dir/libcheckNAME.so checker" at verbosity 3
	libs=$(sed -n 's/.*loading \(\/[^ ]*\.so\) checker.*/"\1"/p' "$LOG" | sort -u | tr '\n' ',' | sed 's/,$//')
	echo "{\"event\":\"loaded\",\"libs\":[$libs]}"
	;;
*)
	echo "usage: mpcg-mp udev|start CHECKER [PREFIX]|wait-map N MS|wait-maps NMAPS NPATHS MS|cpu-cycles WARMUP N MS|reconfigure NMAPS NPATHS MS|wait-paths MS[:HOLD_MS] SPEC...|loaded|stop|log [N]" >&2
	exit 2
	;;
esac
