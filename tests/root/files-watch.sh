#!/bin/sh
# SPDX-License-Identifier: MIT
# files-watch.sh - the files layer sees set-id and world-writable modes
# when they happen, and never accepts a new file by itself.  Against a
# temporary root (private net + mount namespaces, see daemon-env.sh):
# - `chmod u+s` on a file in a walked directory (and in a directory made
#   after the start) gives its drift line within 1 s (measured), with a
#   backstop timer of 600 s;
# - o+w on a file there is repaired as quickly (stat(1) witnesses it);
# - a new file in a baselined directory (policy.d) is drift, logged once,
#   and stays drift: the daemon does not record it; `jefe baseline accept
#   PATH` records it, and so does `jefe enforce --layer files`; an edited
#   file is accepted the same way.
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/daemon-env.sh"
env_enter_ns "$@"

env_setup_root "mode = report
check_interval = 600" ""
cat >"$T/etc/jefe/policy.d/60-files.conf" <<'P'
[files]
mode = enforce
suid_dirs = /usr/local/bin
world_writable_dirs = /usr/local
tmp_mounts =
baseline = /etc/jefe/policy.d/*
P
mkdir -p "$T/usr/local/bin" "$T/usr/local/share"
BASELINE=$T/var/lib/jefe/files.sha256

env_start_daemon
[ -f "$BASELINE" ] || fail "the start did not record the first baseline"
grep -q "/etc/jefe/policy.d/60-files.conf" "$BASELINE" || fail "the first baseline lacks 60-files.conf"

# drift_ms FROM PATTERN: ms from t0 until the log has PATTERN after line FROM.
# Within 10 s with a 600 s backstop: only the inotify watch can have seen
# it.  The latency itself is a figure (printed here), not a pass mark: on a
# loaded machine it is seconds, on a quiet one tens of milliseconds.
drift_ms() {
	wait_log "$1" "$2" 10 || fail "no '$2' line within 10 s (backstop: 600 s)"
	echo $(( $(now_ms) - t0 ))
}

# 1. chmod u+s in a walked directory.
printf '#!/bin/sh\n' >"$T/usr/local/bin/bb"
chmod 0755 "$T/usr/local/bin/bb"
sleep 0.3
n=$(log_lines)
t0=$(now_ms)
chmod u+s "$T/usr/local/bin/bb"
suid_ms=$(drift_ms "$n" "drift layer=files item=suid:/usr/local/bin/bb ")
note "chmod u+s to drift line: $suid_ms ms"

# 2. ... in a directory made after the start (the new directory is watched).
mkdir "$T/usr/local/bin/sub"
printf '#!/bin/sh\n' >"$T/usr/local/bin/sub/bb2"
sleep 0.3
n=$(log_lines)
t0=$(now_ms)
chmod g+s,g+x "$T/usr/local/bin/sub/bb2"
sub_ms=$(drift_ms "$n" "drift layer=files item=suid:/usr/local/bin/sub/bb2 ")
note "chmod g+s in a new directory to drift line: $sub_ms ms"
rm -rf "$T/usr/local/bin/bb" "$T/usr/local/bin/sub"

# 3. o+w on a file below /usr/local: repaired.
: >"$T/usr/local/share/data"
chmod 0644 "$T/usr/local/share/data"
sleep 0.3
n=$(log_lines)
t0=$(now_ms)
chmod o+w "$T/usr/local/share/data"
ww_ms=$(drift_ms "$n" "drift layer=files item=world-writable:/usr/local/share/data ")
note "chmod o+w to drift line: $ww_ms ms"
wait_log "$n" "item=world-writable:/usr/local/share/data expected=\"not o+w\" actual=0646 action=repaired" 5 ||
	fail "o+w not logged as repaired"
[ "$(stat -c %a "$T/usr/local/share/data")" = 644 ] || fail "o+w not removed ($(stat -c %a "$T/usr/local/share/data"))"
note "chmod o+w to drift line: $ww_ms ms (repaired)"

# 4. A new file in the baselined policy.d: drift, and it stays drift.
n=$(log_lines)
echo "# dropped in by someone" >"$T/etc/jefe/policy.d/50-new.conf"
wait_log "$n" "drift layer=files item=sha256:/etc/jefe/policy.d/50-new.conf " 5 ||
	fail "the new policy.d file is not logged as drift"
sleep 1.5
new_lines=$(tail -n +"$((n + 1))" "$LOG" | grep "item=sha256:/etc/jefe/policy.d/50-new.conf" || :)
echo "$new_lines" | grep -q "action=cannot-fix" || fail "the new file's drift is not cannot-fix: $new_lines"
if echo "$new_lines" | grep -q "action=repaired"; then
	fail "the daemon accepted a new file by itself: $new_lines"
fi
[ "$(echo "$new_lines" | grep -c .)" = 1 ] || fail "the new file's drift is logged more than once: $new_lines"
if grep -q "50-new.conf" "$BASELINE"; then
	fail "the daemon recorded the new file in the baseline"
fi
src=0
"$JEFE" status --root "$T" --layer files > "$T/st.out" 2>&1 || src=$?
[ "$src" = 2 ] || fail "jefe status --layer files exited $src with a new file, expected 2: $(cat "$T/st.out")"
grep -q "jefe baseline accept /etc/jefe/policy.d/50-new.conf" "$T/st.out" ||
	fail "status does not say how to accept the file: $(cat "$T/st.out")"
note "a new policy.d file: drift, logged once, not recorded"

# 5. jefe baseline accept PATH records it.
"$JEFE" baseline accept --root "$T" /etc/jefe/policy.d/50-new.conf > "$T/acc.out" 2>&1 ||
	fail "jefe baseline accept failed: $(cat "$T/acc.out")"
grep -q "^accepted /etc/jefe/policy.d/50-new.conf sha256 [0-9a-f]\{64\}$" "$T/acc.out" ||
	fail "unexpected output of jefe baseline accept: $(cat "$T/acc.out")"
grep -q "$(sha256sum "$T/etc/jefe/policy.d/50-new.conf" | cut -d' ' -f1)  /etc/jefe/policy.d/50-new.conf" "$BASELINE" ||
	fail "the accepted file's hash is not in the baseline"
src=0
"$JEFE" status --root "$T" --layer files > "$T/st.out" 2>&1 || src=$?
[ "$src" = 0 ] || fail "jefe status --layer files exited $src after the accept: $(cat "$T/st.out")"
# An edited file is accepted the same way.
echo "# edited" >>"$T/etc/jefe/policy.d/50-new.conf"
src=0
"$JEFE" status --root "$T" --layer files > "$T/st.out" 2>&1 || src=$?
[ "$src" = 2 ] || fail "an edited baselined file is not drift (exit $src)"
"$JEFE" baseline accept --root "$T" /etc/jefe/policy.d/50-new.conf >/dev/null ||
	fail "jefe baseline accept of an edited file failed"
"$JEFE" status --root "$T" --layer files >/dev/null || fail "the accepted edit is still drift"
# Paths the baseline does not cover are refused, with the reason.
src=0
"$JEFE" baseline accept --root "$T" /etc/jefe/jefe.conf > "$T/acc.out" 2>&1 || src=$?
[ "$src" = 1 ] || fail "accepting a path outside the baseline exited $src, expected 1"
grep -q "not under \[files\] baseline" "$T/acc.out" || fail "no reason given: $(cat "$T/acc.out")"
note "jefe baseline accept: new and edited files recorded; other paths refused"

# 6. jefe enforce --layer files (the admin, through the daemon) records a new file.
echo "# another" >"$T/etc/jefe/policy.d/51-other.conf"
sleep 0.5
grep -q "51-other.conf" "$BASELINE" && fail "the daemon recorded 51-other.conf by itself"
"$JEFE" enforce --root "$T" --layer files > "$T/enf.out" 2>&1 ||
	fail "jefe enforce --layer files failed: $(cat "$T/enf.out")"
grep -q "/etc/jefe/policy.d/51-other.conf" "$BASELINE" || fail "jefe enforce --layer files did not record the new file"
"$JEFE" status --root "$T" --layer files >/dev/null || fail "status not compliant after jefe enforce --layer files"
note "jefe enforce --layer files: the new file recorded"

stop_daemon
sed "s/^/# log: /" "$LOG"
echo "PASS: files-watch"
