# Shell library of the mpcheckgen test VM, sourced by /scenarios.sh.
# busybox ash. Every result goes out as a record through vmstep.
#
# Conventions:
#   $S                the running scenario's name (set by mpcg_scenario)
#   mpcg_sh N L K F…  runs shell function F… as step N (label L, kind K) in
#                     the current shell, so F can set variables; its output
#                     is forwarded as records.
#   mpcg_fail N L R   ends the scenario with a scenario-error record.
#   $MPCG_TMP         the running scenario's own directory, created empty
#                     before its first step and removed after its teardown:
#                     files a step leaves there cannot be mistaken for files
#                     of a later scenario.

MPCG_FAILED=0
MPCG_CFG=/sys/kernel/config
MPCG_T=$MPCG_CFG/target
MPCG_OUT=/tmp/mpcg-step.out
# Modules that stay loaded between scenarios.
MPCG_KEEP_MODULES=" scsi_mod scsi_common configfs "
# Scenarios started so far (names the scenario directories).
MPCG_NSCEN=0

# mpcg_scenario NAME FUNCTION: runs FUNCTION in a subshell, then tears down.
mpcg_scenario() {
	local name="$1" fn="$2" t0 rc
	MPCG_NSCEN=$((MPCG_NSCEN + 1))
	MPCG_TMP=/tmp/mpcg-scenario-$MPCG_NSCEN
	rm -rf "$MPCG_TMP"
	mkdir -p "$MPCG_TMP"
	export MPCG_TMP
	t0=$(vmstep now)
	vmstep emit '{"event":"scenario-begin"}' scenario="$name"
	(
		S="$name"
		"$fn"
	)
	rc=$?
	vmstep emit -S "$t0" '{"event":"scenario-end"}' scenario="$name" status:="$rc"
	[ "$rc" -eq 0 ] || MPCG_FAILED=$((MPCG_FAILED + 1))
	mpcg_teardown "$name"
	rm -rf "$MPCG_TMP"
}

mpcg_finish() {
	vmstep emit '{"event":"scenarios-done"}' failed:="$MPCG_FAILED"
	[ "$MPCG_FAILED" -gt 100 ] && MPCG_FAILED=100
	exit "$MPCG_FAILED"
}

# mpcg_fail STEP LABEL [REASON]
mpcg_fail() {
	local rc=$?
	vmstep emit '{"event":"scenario-error"}' scenario="$S" step:="$1" label="$2" \
		status:="$rc" reason="${3:-set-up step failed}"
	# background steps end (at their timeout at the latest) before teardown
	wait
	exit 1
}

# mpcg_join PID: waits for a background step (vmstep run ... &); its status
# is the step's.
mpcg_join() {
	wait "$1"
}

# mpcg_sh STEP LABEL KIND FUNCTION ARGS...
mpcg_sh() {
	local n="$1" l="$2" k="$3" t rc
	shift 3
	vmstep emit '{"event":"step-begin"}' scenario="$S" step:="$n" label="$l" kind="$k" command="$*"
	t=$(vmstep now)
	MPCG_STEP=$n
	MPCG_LABEL=$l
	# fd 3 keeps the console for records emitted by the function itself.
	"$@" 3>&1 >"$MPCG_OUT" 2>&1
	rc=$?
	[ -s "$MPCG_OUT" ] && vmstep forward -s "$S" -n "$n" -l "$l" "$MPCG_OUT"
	vmstep emit -S "$t" '{"event":"step-end"}' scenario="$S" step:="$n" label="$l" kind="$k" \
		status:="$rc" signal:=0 timed_out:=false
	return "$rc"
}

mpcg_now() { vmstep now; }

# ---------------------------------------------------------------- devices

# mpcg_count_devs PROC_NAME NEED_SG: prints the number of SCSI devices on
# hosts whose proc_name is PROC_NAME (with an sg node when NEED_SG=1).
mpcg_count_devs() {
	local proc="$1" need_sg="$2" n=0 d hctl host pn g
	for d in /sys/class/scsi_device/*; do
		[ -e "$d" ] || continue
		hctl=${d##*/}
		host=${hctl%%:*}
		pn=
		read -r pn 2>/dev/null <"/sys/class/scsi_host/host$host/proc_name"
		[ "$pn" = "$proc" ] || continue
		if [ "$need_sg" = 1 ]; then
			g=
			for g in "$d"/device/scsi_generic/sg*; do :; done
			[ -e "$g" ] && [ -c "/dev/${g##*/}" ] || continue
		fi
		n=$((n + 1))
	done
	echo "$n"
}

# mpcg_wait_devs PROC_NAME COUNT TIMEOUT_MS NEED_SG
mpcg_wait_devs() {
	local proc="$1" want="$2" tmo="$3" need_sg="$4" end have
	end=$(($(vmstep now) + tmo))
	while :; do
		have=$(mpcg_count_devs "$proc" "$need_sg")
		[ "$have" -eq "$want" ] && {
			echo "$have device(s) of $proc present"
			return 0
		}
		if [ "$(vmstep now)" -ge "$end" ]; then
			echo "timeout: $have device(s) of $proc, expected $want (need_sg=$need_sg)"
			ls /sys/class/scsi_device/ 2>&1
			return 1
		fi
		usleep 50000
	done
}

# mpcg_find_dev PREFIX PROC VENDOR MODEL LUN INDEX TIMEOUT_MS NEED_SD ADDR_FILE [HOSTMOD]
# Finds a SCSI device and sets ${PREFIX}_sg, _sd, _hctl, _host, _sysfs.
# Empty PROC/VENDOR/MODEL/LUN/ADDR_FILE match anything. ADDR_FILE holds
# "H:C:T" (tcm_loop's tpgt_N/address). HOSTMOD "M:R" matches hosts whose
# number is R modulo M. INDEX picks among matches (glob order).
mpcg_find_dev() {
	local pfx="$1" proc="$2" vendor="$3" model="$4" lun="$5" idx="$6" tmo="$7" need_sd="$8" addr_file="$9"
	local hostmod="${10}" end d hctl host pn v m i addr g b sg sd
	end=$(($(vmstep now) + tmo))
	while :; do
		i=0
		sg=
		sd=
		hctl=
		addr=
		[ -n "$addr_file" ] && read -r addr 2>/dev/null <"$addr_file"
		for d in /sys/class/scsi_device/*; do
			[ -e "$d" ] || continue
			hctl=${d##*/}
			host=${hctl%%:*}
			if [ -n "$addr_file" ]; then
				[ -n "$addr" ] && [ "${hctl%:*}" = "$addr" ] || continue
			fi
			if [ -n "$proc" ]; then
				pn=
				read -r pn 2>/dev/null <"/sys/class/scsi_host/host$host/proc_name"
				[ "$pn" = "$proc" ] || continue
			fi
			if [ -n "$vendor" ]; then
				v=
				read -r v <"$d/device/vendor"
				[ "$v" = "$vendor" ] || continue
			fi
			if [ -n "$model" ]; then
				m=
				read -r m <"$d/device/model"
				[ "$m" = "$model" ] || continue
			fi
			[ -n "$lun" ] && [ "${hctl##*:}" != "$lun" ] && continue
			[ -n "$hostmod" ] && [ $((host % ${hostmod%%:*})) -ne "${hostmod#*:}" ] && continue
			if [ "$i" -lt "$idx" ]; then
				i=$((i + 1))
				continue
			fi
			g=
			for g in "$d"/device/scsi_generic/sg*; do :; done
			[ -e "$g" ] && [ -c "/dev/${g##*/}" ] && sg=/dev/${g##*/}
			b=
			for b in "$d"/device/block/sd*; do :; done
			[ -e "$b" ] && [ -b "/dev/${b##*/}" ] && sd=/dev/${b##*/}
			break
		done
		if [ -n "$sg" ] && { [ "$need_sd" != 1 ] || [ -n "$sd" ]; }; then
			eval "${pfx}_sg=\$sg ${pfx}_sd=\$sd ${pfx}_hctl=\$hctl ${pfx}_host=\$host"
			eval "${pfx}_sysfs=/sys/class/scsi_device/\$hctl/device"
			export "${pfx}_sg" "${pfx}_sd" "${pfx}_hctl" "${pfx}_host" "${pfx}_sysfs"
			read -r v <"/sys/class/scsi_device/$hctl/device/vendor"
			read -r m <"/sys/class/scsi_device/$hctl/device/model"
			vmstep emit '{"event":"device"}' scenario="$S" step:="$MPCG_STEP" label="$MPCG_LABEL" \
				var="$pfx" sg="$sg" sd="$sd" hctl="$hctl" host:="$host" vendor="$v" model="$m" >&3
			return 0
		fi
		if [ "$(vmstep now)" -ge "$end" ]; then
			echo "no matching SCSI device (proc=$proc vendor=$vendor model=$model lun=$lun index=$idx need_sd=$need_sd addr=$addr)"
			for d in /sys/class/scsi_device/*; do
				[ -e "$d" ] || continue
				read -r v <"$d/device/vendor"
				read -r m <"$d/device/model"
				echo "  ${d##*/}: $v $m $(ls "$d/device/scsi_generic" "$d/device/block" 2>/dev/null | tr '\n' ' ')"
			done
			return 1
		fi
		usleep 50000
	done
}

# mpcg_tur_until_good DEVICE MAX_TRIES: sg_turs until it succeeds.
mpcg_tur_until_good() {
	local dev="$1" max="$2" i=1 rc
	while [ "$i" -le "$max" ]; do
		sg_turs "$dev" 2>&1
		rc=$?
		echo "sg_turs try $i: exit $rc"
		[ "$rc" -eq 0 ] && return 0
		i=$((i + 1))
	done
	return 1
}

# ---------------------------------------------------------------- LIO

mpcg_configfs() {
	grep -q ' /sys/kernel/config configfs ' /proc/mounts && return 0
	mount -t configfs configfs "$MPCG_CFG"
}

# Removes every LIO object (fabrics, backstores, groups) through configfs.
mpcg_lio_teardown() {
	local fab wwn tpg lun l hba dev gp lg rc=0
	[ -d "$MPCG_T" ] || return 0
	for fab in "$MPCG_T"/*; do
		[ -d "$fab" ] || continue
		case ${fab##*/} in core) continue ;; esac
		for wwn in "$fab"/*; do
			[ -d "$wwn" ] || continue
			case ${wwn##*/} in discovery_auth) continue ;; esac
			for tpg in "$wwn"/tpgt_*; do
				[ -d "$tpg" ] || continue
				for lun in "$tpg"/lun/lun_*; do
					[ -d "$lun" ] || continue
					for l in "$lun"/*; do
						[ -L "$l" ] && { rm -f "$l" || rc=1; }
					done
					rmdir "$lun" || rc=1
				done
				rmdir "$tpg" || rc=1
			done
			rmdir "$wwn" || rc=1
		done
		# The fabric group holds a reference on its module (tcm_loop).
		rmdir "$fab" || rc=1
	done
	for hba in "$MPCG_T"/core/*_*; do
		[ -d "$hba" ] || continue
		for dev in "$hba"/*; do
			[ -d "$dev" ] || continue
			for gp in "$dev"/alua/*; do
				[ -d "$gp" ] || continue
				[ "${gp##*/}" = default_tg_pt_gp ] && continue
				rmdir "$gp" || rc=1
			done
			rmdir "$dev" || rc=1
		done
		rmdir "$hba" || rc=1
	done
	for lg in "$MPCG_T"/core/alua/lu_gps/*; do
		[ -d "$lg" ] || continue
		[ "${lg##*/}" = default_lu_gp ] && continue
		rmdir "$lg" || rc=1
	done
	return $rc
}

# ---------------------------------------------------------------- teardown

# Unloads every module that is not kept, in as many passes as dependencies
# need; references dropped asynchronously (SCSI host removal) get up to 5 s.
mpcg_unload_modules() {
	local end name size refs rest left
	end=$(($(vmstep now) + 5000))
	while :; do
		left=
		while read -r name size refs rest; do
			case "$MPCG_KEEP_MODULES" in *" $name "*) continue ;; esac
			if [ "$refs" = 0 ] && rmmod "$name" 2>/dev/null; then
				:
			else
				left="$left $name($refs)"
			fi
		done </proc/modules
		[ -z "$left" ] && return 0
		[ "$(vmstep now)" -ge "$end" ] && break
		usleep 100000
	done
	echo "modules still loaded (refcount):$left"
	return 1
}

mpcg_teardown_all() {
	local rc=0 h
	# Hooks of image extensions (e.g. stop multipathd and remove its maps
	# before the devices under them go away).
	for h in /lib/mpcg/teardown.d/*; do
		[ -x "$h" ] || continue
		"$h" || {
			echo "teardown hook ${h##*/} failed"
			rc=1
		}
	done
	if ! mpcg_lio_teardown; then
		rc=1
		echo "LIO objects left:"
		find "$MPCG_T" -maxdepth 4 -type d 2>&1 | head -40
	fi
	mpcg_unload_modules || rc=1
	for h in /sys/class/scsi_host/*; do
		[ -e "$h" ] || continue
		echo "SCSI host still present: ${h##*/} ($(cat "$h/proc_name" 2>/dev/null))"
		rc=1
	done
	return $rc
}

# mpcg_teardown SCENARIO
mpcg_teardown() {
	local t rc
	t=$(vmstep now)
	mpcg_teardown_all >"$MPCG_OUT" 2>&1
	rc=$?
	[ -s "$MPCG_OUT" ] && vmstep forward -s "$1" -n -1 -l teardown "$MPCG_OUT"
	vmstep emit -S "$t" '{"event":"teardown"}' scenario="$1" status:="$rc"
}
