#!/bin/sh
# SPDX-License-Identifier: MIT
# sshd-real.sh - the sshd layer against the real OpenSSH, in a private
# mount and network namespace (see sshd-env.sh): jefe enforces the shipped
# policy, `sshd -T` (the independent witness) agrees, a real sshd on
# 127.0.0.1:22022 takes a key login from the test user and refuses
# passwords, root and a disallowed cipher; each tamper of the
# configuration is found by `jefe status` and repaired by `jefe enforce`;
# a candidate sshd rejects and a policy that would lock the admin out are
# never installed (one that strands no one, every password locked, is).
set -eu
. "${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/sshd/sshd-env.sh"
sshd_enter_ns "$@"
sshd_setup

# status/enforce exit codes: 0 compliant, 2 drift, 1 error.
expect() {
	want=$1; shift
	set +e
	"$@" > "$T/out" 2>&1
	got=$?
	set -e
	[ "$got" = "$want" ] || { cat "$T/out" >&2; fail "'$*' exited $got, expected $want"; }
}
# sshd_T KEYWORD [-C spec]: what sshd itself says.
sshd_T() {
	kw=$1; shift
	"$SSHD" -T -f /etc/ssh/sshd_config "$@" | awk -v k="$kw" '$1 == k { $1 = ""; sub(/^ /, ""); print }'
}
item_state() {	# item_state ITEM: state and action of one item in --json
	"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["findings"]:
    if f["layer"] == "sshd" and f["item"] == sys.argv[2]:
        print(f["state"], f.get("action", "none")); break
else:
    print("absent")' "$T/out" "$1"
}

# 1. The stock Debian configuration drifts; a dry run changes nothing.
expect 2 jefe_sshd status
grep -q "PasswordAuthentication" "$T/out" || fail "status does not list PasswordAuthentication"
sum0=$(cat /etc/ssh/sshd_config | md5sum)
expect 2 jefe_sshd enforce --dry-run --json
[ "$(item_state PermitRootLogin)" = "drift would-repair" ] ||
	fail "dry run: PermitRootLogin is '$(item_state PermitRootLogin)', expected 'drift would-repair'"
[ "$(cat /etc/ssh/sshd_config | md5sum)" = "$sum0" ] || fail "the dry run changed sshd_config"
[ ! -e /etc/ssh/sshd_config.d/00-jefe.conf ] || fail "the dry run wrote the drop-in"
# The text dry run shows the drop-in it would write as a unified diff.
expect 2 jefe_sshd enforce --dry-run
grep -qxF '      --- /dev/null' "$T/out" || fail "dry run: no diff of the new drop-in: $(cat "$T/out")"
grep -qxF '      +++ /etc/ssh/sshd_config.d/00-jefe.conf (as jefe would write it)' "$T/out" ||
	fail "dry run: the diff does not name the drop-in"
grep -qi '^      +PermitRootLogin no$' "$T/out" || fail "dry run: the diff lacks PermitRootLogin no"
[ ! -e /etc/ssh/sshd_config.d/00-jefe.conf ] || fail "the text dry run wrote the drop-in"
echo "# dry run: drift reported, the drop-in shown as a diff, nothing written"

# 2. Enforce; sshd -T, not the agent, says it is done.
expect 0 jefe_sshd enforce --json
[ "$(item_state PasswordAuthentication)" = "drift repaired" ] ||
	fail "PasswordAuthentication: '$(item_state PasswordAuthentication)' after enforce"
expect 0 jefe_sshd status
[ "$(sshd_T passwordauthentication)" = no ] || fail "sshd -T: passwordauthentication $(sshd_T passwordauthentication)"
[ "$(sshd_T permitrootlogin)" = no ] || fail "sshd -T: permitrootlogin $(sshd_T permitrootlogin)"
[ "$(sshd_T ciphers)" = "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com" ] ||
	fail "sshd -T: ciphers $(sshd_T ciphers)"
[ "$(sshd_T maxauthtries)" = 3 ] || fail "sshd -T: maxauthtries $(sshd_T maxauthtries)"
[ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ] || fail "sshd_config mode $(stat -c %a /etc/ssh/sshd_config)"
[ -f /etc/ssh/sshd_config.d/00-jefe.conf ] || fail "no drop-in"
[ "$(sshd_T hostkeyalgorithms)" = "ssh-ed25519,rsa-sha2-512,rsa-sha2-256" ] ||
	fail "sshd -T: hostkeyalgorithms $(sshd_T hostkeyalgorithms) (no NIST curve, no DSA)"
[ "$(sshd_T compression)" = no ] || fail "sshd -T: compression $(sshd_T compression)"
[ "$(sshd_T tcpkeepalive)" = no ] || fail "sshd -T: tcpkeepalive $(sshd_T tcpkeepalive)"
[ "$(sshd_T banner)" = /etc/issue.net ] || fail "sshd -T: banner $(sshd_T banner)"
[ "$(sshd_T maxsessions)" = 10 ] && [ "$(sshd_T clientalivecountmax)" = 3 ] ||
	fail "sshd -T: maxsessions $(sshd_T maxsessions), clientalivecountmax $(sshd_T clientalivecountmax)"
echo "# enforce: sshd -T agrees (passwords no, root no, 2 ciphers, MaxAuthTries 3, no ecdsa host key algorithm, no compression, no TCP keepalive, banner)"

# 3. A real sshd with the managed configuration, and a real client.
sshd_start
out=$(ssh_try -o BatchMode=yes "$TUSER@127.0.0.1" echo key-login-ok 2>&1) ||
	fail "public key login of $TUSER failed: $out"
[ "$out" = key-login-ok ] || fail "key login printed '$out'"
echo "# key login of $TUSER: ok"
if out=$(ssh_try -o BatchMode=yes root@127.0.0.1 echo root-in 2>&1); then
	fail "root logged in with an authorized key: $out"
fi
echo "# root login with an authorized key: refused"
out=$(ssh_try -v -o BatchMode=yes -o PubkeyAuthentication=no \
	-o PreferredAuthentications=password,keyboard-interactive "$TUSER@127.0.0.1" true 2>&1) &&
	fail "a login without a key succeeded"
methods=$(echo "$out" | tr -d '\r' | sed -n 's/.*Authentications that can continue: //p' | head -1)
[ "$methods" = publickey ] || fail "server offers '$methods', expected only publickey"
echo "# password: not offered (server offers: $methods)"
out=$(ssh_try -o BatchMode=yes -c aes128-ctr "$TUSER@127.0.0.1" true 2>&1) &&
	fail "cipher aes128-ctr was negotiated"
# sshd's witness line may land a moment after the client gave up.
i=0
until grep -q "no matching cipher found. Their offer: aes128-ctr" "$T/sshd.log"; do
	i=$((i + 1)); [ $i -le 100 ] || fail "aes128-ctr refused for another reason: $out"
	sleep 0.05
done
out=$(ssh_try -o BatchMode=yes -c aes256-gcm@openssh.com "$TUSER@127.0.0.1" echo ok 2>&1) ||
	fail "the allowed cipher aes256-gcm@openssh.com failed: $out"
echo "# cipher aes128-ctr: no matching cipher; aes256-gcm: ok"
sshd_stop

# 4. Tampers: each one is drift in status and repaired by enforce.
# 4a. PasswordAuthentication yes before the Include.
{ echo "PasswordAuthentication yes"; cat /etc/ssh/sshd_config; } > "$T/cfg"
cat "$T/cfg" > /etc/ssh/sshd_config
expect 2 jefe_sshd status --json
[ "$(item_state PasswordAuthentication)" = "drift none" ] || fail "4a: not seen as drift"
[ "$(item_state include)" = "drift none" ] || fail "4a: include order not seen as drift"
expect 0 jefe_sshd enforce
[ "$(sshd_T passwordauthentication)" = no ] || fail "4a: not repaired"
[ -f /etc/ssh/sshd_config.jefe-bak ] || fail "4a: no backup of sshd_config"
grep -q "^PasswordAuthentication yes" /etc/ssh/sshd_config.jefe-bak || fail "4a: backup is not the old file"
first=$(grep -v '^[[:space:]]*\(#\|$\)' /etc/ssh/sshd_config | head -1)
[ "$first" = "Include /etc/ssh/sshd_config.d/*.conf" ] || fail "4a: first directive is '$first'"
grep -q "^PasswordAuthentication yes" /etc/ssh/sshd_config || fail "4a: the edit was not minimal"
echo "# 4a PasswordAuthentication before the Include: drift, repaired (Include moved first, backup kept)"

# 4b. A Match block that re-enables passwords for the test user.
printf 'Match User %s\n\tPasswordAuthentication yes\n' "$TUSER" >> /etc/ssh/sshd_config
[ "$(sshd_T passwordauthentication -C user=$TUSER,host=h,addr=192.0.2.9)" = yes ] ||
	fail "4b: the tamper does not work on sshd (test is wrong)"
expect 2 jefe_sshd status --json
[ "$(item_state PasswordAuthentication)" = "drift none" ] || fail "4b: Match block not seen"
expect 0 jefe_sshd enforce
[ "$(sshd_T passwordauthentication -C user=$TUSER,host=h,addr=192.0.2.9)" = no ] || fail "4b: not repaired"
grep -q "^Match all" /etc/ssh/sshd_config.d/00-jefe.conf || fail "4b: no Match all in the drop-in"
echo "# 4b Match User re-enabling passwords: drift, repaired (Match all in the drop-in)"

# 4c. A drop-in that sorts before ours.
echo "PermitRootLogin yes" > /etc/ssh/sshd_config.d/00-early.conf
[ "$(sshd_T permitrootlogin)" = yes ] || fail "4c: the tamper does not work on sshd"
expect 2 jefe_sshd status --json
[ "$(item_state PermitRootLogin)" = "drift none" ] || fail "4c: early drop-in not seen"
expect 0 jefe_sshd enforce
[ "$(sshd_T permitrootlogin)" = no ] || fail "4c: not repaired"
[ -f /etc/ssh/sshd_config.d/00-early.conf ] || fail "4c: the other drop-in was removed"
echo "# 4c drop-in sorting before ours: drift, repaired (explicit Include of ours first)"

# 4c2. The settings of CIS 5.1.5/5.1.7 and the host key algorithms, tampered
# in a Match block (the drop-in of the agent is first, so a later global
# line would not win): each one drift, repaired.
printf 'Match User %s
	Banner none
	ClientAliveCountMax 0
	MaxSessions 64
' "$TUSER" >> /etc/ssh/sshd_config
[ "$(sshd_T banner -C user=$TUSER,host=h,addr=192.0.2.9)" = none ] || fail "4c2: the tamper does not work on sshd"
expect 2 jefe_sshd status --json
for k in Banner ClientAliveCountMax MaxSessions; do
	[ "$(item_state $k)" = "drift none" ] || fail "4c2: $k tampered in a Match block: '$(item_state $k)'"
done
expect 0 jefe_sshd enforce
[ "$(sshd_T banner -C user=$TUSER,host=h,addr=192.0.2.9)" = /etc/issue.net ] || fail "4c2: Banner not repaired"
[ "$(sshd_T maxsessions -C user=$TUSER,host=h,addr=192.0.2.9)" = 10 ] || fail "4c2: MaxSessions not repaired"
echo "# 4c2 Banner, ClientAliveCountMax, MaxSessions in a Match block: drift, repaired"

# 4d. chmod 666 sshd_config.
chmod 666 /etc/ssh/sshd_config
expect 2 jefe_sshd status --json
[ "$(item_state mode:/etc/ssh/sshd_config)" = "drift none" ] || fail "4d: mode not seen"
expect 0 jefe_sshd enforce
[ "$(stat -c %a /etc/ssh/sshd_config)" = 600 ] || fail "4d: mode $(stat -c %a /etc/ssh/sshd_config)"
echo "# 4d chmod 666 sshd_config: drift, repaired (0600)"

# 5. The running sshd is older than its config: reload pending.  The
# agent reloads only through OpenRC on the real root; here (--root T) it
# says it did not, without failing, and SIGHUP by hand clears it.
sshd_start
expect 0 jefe_sshd status
printf "[sshd]\nMaxSessions = 5\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 2 jefe_sshd enforce --json
[ "$(item_state MaxSessions)" = "drift repaired" ] || fail "5: MaxSessions '$(item_state MaxSessions)'"
[ "$(item_state reload)" = "drift cannot-fix" ] || fail "5: reload is '$(item_state reload)'"
grep -q "reload not done" "$T/out" || fail "5: no 'reload not done' note"
expect 2 jefe_sshd status --json
[ "$(item_state reload)" = "drift none" ] || fail "5: reload pending not seen: $(item_state reload)"
kill -HUP "$SSHD_PID"
i=0
until [ "$(item_state reload)" = "compliant none" ]; do
	i=$((i + 1)); [ $i -le 100 ] || fail "5: still pending 5 s after SIGHUP"
	sleep 0.05
	jefe_sshd status --json > "$T/out" 2>&1 || :
done
expect 0 jefe_sshd status
out=$(ssh_try -o BatchMode=yes "$TUSER@127.0.0.1" echo again-ok 2>&1) || fail "login after reload: $out"
rm "$T/etc/jefe/policy.d/90-local.conf"
sshd_stop
expect 0 jefe_sshd enforce
echo "# reload pending: seen while sshd was older than its config, 'reload not done' reported, cleared by SIGHUP"

# 6. A candidate sshd rejects is never installed.
cp /etc/ssh/sshd_config.d/00-jefe.conf "$T/dropin.before"
echo "NoSuchKeyword yes" > /etc/ssh/sshd_config.d/50-broken.conf
printf "[sshd]\nMaxAuthTries = 2\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 1 jefe_sshd enforce
grep -q "sshd -t rejected the candidate, nothing installed: .*NoSuchKeyword" "$T/out" || fail "6: no sshd error reported: $(cat "$T/out")"
cmp -s "$T/dropin.before" /etc/ssh/sshd_config.d/00-jefe.conf || fail "6: a rejected candidate was installed"
ls /etc/ssh/sshd_config.d/ | grep -q jefe-candidate && fail "6: candidate left behind"
rm /etc/ssh/sshd_config.d/50-broken.conf
expect 0 jefe_sshd enforce
[ "$(sshd_T maxauthtries)" = 2 ] || fail "6: MaxAuthTries 2 not applied after the fix"
echo "# invalid candidate: refused, old drop-in kept; applied once sshd accepts it"

# 7. Lockout: no authorized key for any allowed user -> refused unless allowed.
mv "/home/$TUSER/.ssh/authorized_keys" "$T/ak.user"
mv /root/.ssh/authorized_keys "$T/ak.root"
printf "[sshd]\nMaxAuthTries = 4\n" > "$T/etc/jefe/policy.d/90-local.conf"
cp /etc/ssh/sshd_config.d/00-jefe.conf "$T/dropin.before"
expect 1 jefe_sshd enforce
grep -q "authorized key" "$T/out" || fail "7: lockout not explained: $(cat "$T/out")"
cmp -s "$T/dropin.before" /etc/ssh/sshd_config.d/00-jefe.conf || fail "7: lockout candidate installed"
# 7b. The same keyless users with every password locked ("!", "*": the
# image's admin has "*"): nobody logs in with a password today, so
# passwords off strand no one and enforce installs (exit 0, not 1).
cp "$T/etc/shadow" "$T/shadow.before"
awk -F: -v OFS=: '$2 !~ /^[!*]/ { $2 = "!" $2 } { print }' "$T/shadow.before" > "$T/etc/shadow"
printf "[sshd]\nMaxAuthTries = 5\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 0 jefe_sshd enforce
grep -q "authorized key" "$T/out" && fail "7b: refused although no password login exists: $(cat "$T/out")"
[ "$(sshd_T maxauthtries)" = 5 ] || fail "7b: MaxAuthTries 5 not applied with every password locked"
cat "$T/shadow.before" > "$T/etc/shadow"
cp /etc/ssh/sshd_config.d/00-jefe.conf "$T/dropin.before"
printf "[sshd]\nMaxAuthTries = 4\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 1 jefe_sshd enforce
cmp -s "$T/dropin.before" /etc/ssh/sshd_config.d/00-jefe.conf || fail "7b: lockout candidate installed once a password is usable again"
printf '[sshd]\nMaxAuthTries = 4\nallow_lockout = yes\n' > "$T/etc/jefe/policy.d/90-local.conf"
expect 0 jefe_sshd enforce
[ "$(sshd_T maxauthtries)" = 4 ] || fail "7: allow_lockout = yes did not apply"
mv "$T/ak.user" "/home/$TUSER/.ssh/authorized_keys"
mv "$T/ak.root" /root/.ssh/authorized_keys
rm "$T/etc/jefe/policy.d/90-local.conf"
echo "# lockout: refused without a key, applied with allow_lockout = yes or when no password login exists"

# 8. A policy naming an algorithm this OpenSSH lacks is refused at load.
printf "[sshd]\nCiphers = chacha20-poly1305@openssh.com,rot13-ctr\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 1 jefe_sshd status
grep -q "90-local.conf line 2: .*rot13-ctr.*not supported" "$T/out" ||
	fail "8: no file:line error naming rot13-ctr: $(cat "$T/out")"
rm "$T/etc/jefe/policy.d/90-local.conf"
echo "# unsupported cipher in the policy: refused with file and line"

# 8b. A weak cipher this OpenSSH still supports: refused unless allow_weak.
printf "[sshd]\nCiphers = chacha20-poly1305@openssh.com,aes128-cbc\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 1 jefe_sshd status
grep -q "90-local.conf line 2: Ciphers: 'aes128-cbc' is weak (CBC mode); refused unless \[sshd\] allow_weak = yes" "$T/out" ||
	fail "8b: no file:line error naming the weak aes128-cbc: $(cat "$T/out")"
printf "[sshd]\nallow_weak = yes\nCiphers = chacha20-poly1305@openssh.com,aes128-cbc\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 2 jefe_sshd status
grep -q "weak" "$T/out" && fail "8b: allow_weak = yes still refuses: $(cat "$T/out")"
rm "$T/etc/jefe/policy.d/90-local.conf"
echo "# weak cipher: refused, accepted with allow_weak = yes"

# 9. Not installed: the layer says so and fails nothing.
printf "[sshd]\nsshd_path = /nonexistent/sshd\n" > "$T/etc/jefe/policy.d/90-local.conf"
expect 0 jefe_sshd status --json
[ "$(item_state sshd)" = "unsupported none" ] || fail "9: '$(item_state sshd)'"
grep -q '"not installed"' "$T/out" || fail "9: no 'not installed' note"
rm "$T/etc/jefe/policy.d/90-local.conf"
echo "# no sshd: unsupported, 'not installed', exit 0"
# 10. --root /: the production path, real paths (an overlay gives this
# namespace its own /etc/jefe).  No OpenRC runs here: after a change the
# agent reports that it did not reload sshd, and fails nothing.
sshd_root_overlay
sshd_start
printf "[sshd]\nMaxSessions = 7\n" > /etc/jefe/policy.d/90-local.conf
set +e
"$JEFE" --root / --direct enforce --layer sshd --json > "$T/out" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || { cat "$T/out"; fail "10: enforce --root / exited $rc, expected 2 (reload pending)"; }
[ "$(item_state MaxSessions)" = "drift repaired" ] || fail "10: MaxSessions '$(item_state MaxSessions)'"
[ "$(item_state reload)" = "drift cannot-fix" ] || fail "10: reload '$(item_state reload)'"
grep -q "reload not done: OpenRC is not running on this host" "$T/out" || fail "10: no OpenRC note"
[ "$(sshd_T maxsessions)" = 7 ] || fail "10: sshd -T maxsessions $(sshd_T maxsessions)"
kill -HUP "$SSHD_PID"
i=0
until "$JEFE" --root / --direct status --layer sshd > "$T/out" 2>&1; do
	i=$((i + 1)); [ $i -le 100 ] || { cat "$T/out"; fail "10: not compliant 5 s after SIGHUP"; }
	sleep 0.05
done
echo "# --root /: enforced; 'reload not done: OpenRC is not running', exit 2 until sshd reloaded"

# 11. Reload through librc.  This namespace's /run is T/run, so an OpenRC
# state directory there is what librc reads (RC_SVCDIR=/run/openrc); the
# init script (in the /etc overlay) is a stand-in that records its calls
# and does what OpenRC's sshd script does on reload: SIGHUP the pidfile.
mkdir -p /run/openrc/started /etc/init.d
echo default > /run/openrc/softlevel
cat > /etc/init.d/jefe-test-sshd <<'SCRIPT'
#!/bin/sh
echo "$1" >> /run/jefe-test-sshd.calls
[ "$1" = reload ] || exit 1
kill -HUP "$(cat /run/sshd.pid)"
SCRIPT
chmod 0755 /etc/init.d/jefe-test-sshd
: > /run/jefe-test-sshd.calls
# 11a. Known to OpenRC but not started: not reloaded, never started.
printf "[sshd]\nMaxSessions = 6\nservice = jefe-test-sshd\n" > /etc/jefe/policy.d/90-local.conf
expect 2 "$JEFE" --root / --direct enforce --layer sshd --json
[ "$(item_state reload)" = "drift cannot-fix" ] || fail "11a: reload '$(item_state reload)'"
grep -q "reload not done: service jefe-test-sshd is not started" "$T/out" || fail "11a: no 'not started' note"
[ ! -s /run/jefe-test-sshd.calls ] || fail "11a: the init script was run: $(cat /run/jefe-test-sshd.calls)"
# 11b. Started: the agent reloads it and reads back that sshd has its config.
ln -s /etc/init.d/jefe-test-sshd /run/openrc/started/jefe-test-sshd
printf "[sshd]\nMaxSessions = 8\nservice = jefe-test-sshd\n" > /etc/jefe/policy.d/90-local.conf
expect 0 "$JEFE" --root / --direct enforce --layer sshd --json
[ "$(item_state reload)" = "drift repaired" ] || fail "11b: reload '$(item_state reload)'"
[ "$(cat /run/jefe-test-sshd.calls)" = reload ] || fail "11b: init script calls: $(cat /run/jefe-test-sshd.calls)"
expect 0 "$JEFE" --root / --direct status --layer sshd
out=$(ssh_try -o BatchMode=yes "$TUSER@127.0.0.1" echo after-reload 2>&1) || fail "11b: login after reload: $out"
echo "# librc: not-started service left alone; started service reloaded (script ran 'reload' once), read back compliant"
rm /etc/jefe/policy.d/90-local.conf
sshd_stop
echo "PASS: sshd-real"
