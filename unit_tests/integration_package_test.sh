#!/usr/bin/env bash
# Integration: the Debian package as an operator gets it. Builds the .deb from this build tree (CPack), checks its
# control fields, installs it into a scratch root (dpkg --root with the root's own database: the host's dpkg
# database, users and /var are never touched), checks the installed files (binary, SDK, man pages that render,
# systemd units that verify, conffiles) and what postinst made, then runs the installed binary: --version, and a
# master and an agent configured by the packaged ini files that run one task for the installed `mesoscaf execute`;
# finally purges it. Every failure names what is missing and exits 1.
# Usage: integration_package_test.sh BUILD_DIR   (CTest: integration_package)
set -uo pipefail
build="$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)"
# postinst gives the directories it makes their owners; a fake root (fakeroot) would hide exactly that.
[ "$(id -u)" -eq 0 ] ||
  { echo "FAIL: the package test installs with dpkg --root and must run as root (CI does)" >&2; exit 1; }
start=$(date +%s)
scratch="$(mktemp -d "${TMPDIR:-/tmp}/mesoscaf-package.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$scratch"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
check_file() { [ -e "$root$1" ] || fail "the package does not install $1"; }

# Waits at most $3 seconds, and only while process $4 lives, for a line matching the ERE $2 in file $1; prints it.
wait_for_line() {
  local file=$1 pattern=$2 deadline=$(($(date +%s) + $3)) pid=$4
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -m1 -E -o "$pattern" "$file" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "(process $pid exited)" >&2; return 1; }
    sleep 0.2
  done
  return 1
}

# --- build the package (the targets it installs, then CPack into the scratch dir) ---
cmake --build "$build" --target mesoscaf_bin mesoscaf_man >"$scratch/build.log" 2>&1 ||
  { cat "$scratch/build.log"; die "building mesoscaf_bin and mesoscaf_man (the man pages: help2man) failed"; }
(cd "$build" && cpack -G DEB -B "$scratch/out") >"$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; die "cpack -G DEB failed"; }
debs=("$scratch"/out/mesoscaf_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { cat "$scratch/cpack.log"; die "cpack made no single mesoscaf_*.deb"; }
deb=${debs[0]}
echo "package: $(basename "$deb") $(du -k "$deb" | cut -f1) KiB"

# --- control fields ---
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
[ -n "$version" ] || die "no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = mesoscaf ] || fail "Package is '$(field Package)', not mesoscaf"
[ "$(field Version)" = "$version-1" ] || fail "Version is '$(field Version)', not $version-1 (the project's)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends="$(field Depends)"
echo "Depends: $depends"
echo
for lib in libcaf-core libcaf-io libsqlite3 libzookeeper-mt libjemalloc libstdc++6 libc6 passwd; do
  [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib (the binary needs it; dpkg-shlibdeps)"
done
dpkg-deb --control "$deb" "$scratch/control" || die "cannot read the control archive"
for script in postinst prerm postrm; do
  [ -x "$scratch/control/$script" ] || fail "no executable maintainer script $script"
  sh -n "$scratch/control/$script" || fail "$script is not valid sh"
done
for conffile in /etc/default/mesoscaf-master /etc/default/mesoscaf-agent /etc/mesoscaf/master.ini \
                /etc/mesoscaf/agent.ini /etc/logrotate.d/mesoscaf; do
  grep -qx "$conffile" "$scratch/control/conffiles" 2>/dev/null || fail "$conffile is not a conffile"
done

# --- the installed files ---
# dpkg --root into an empty root with its own dpkg database (the host's is never read or written); the maintainer
# scripts run chrootless and honour DPKG_ROOT. The root gets the minimal /etc files useradd edits.
root="$scratch/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nadm:x:4:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\nadm:*::\n' >"$root/etc/gshadow"
dpkg_root() { dpkg --root="$root" --force-script-chrootless --force-depends "$@" >>"$scratch/dpkg.log" 2>&1; }
dpkg_root --install "$deb" || { cat "$scratch/dpkg.log"; die "dpkg --root --install failed"; }
dpkg --root="$root" --status mesoscaf | grep -qx 'Status: install ok installed' ||
  die "mesoscaf is not installed in the root"
# postinst: the master's user and the daemons' directories with their owners.
mesoscaf_uid="$(awk -F: '$1 == "mesoscaf" { print $3 }' "$root/etc/passwd")"
[ -n "$mesoscaf_uid" ] || fail "postinst created no user mesoscaf"
check_dir() {
  [ -d "$root$1" ] || { fail "postinst did not create $1"; return; }
  [ "$(stat -c '%u %a' "$root$1")" = "$2" ] || fail "$1 is '$(stat -c '%u %a' "$root$1")', not uid and mode '$2'"
}
check_dir /var/lib/mesoscaf/master "$mesoscaf_uid 750"
check_dir /var/lib/mesoscaf/agent "0 700"
check_dir /var/log/mesoscaf "$mesoscaf_uid 2750"
# An operator's edit of a conffile survives reinstalling the package.
echo '# edited by the operator' >>"$root/etc/mesoscaf/agent.ini"
dpkg_root --install "$deb" || { cat "$scratch/dpkg.log"; die "reinstalling with dpkg --root failed"; }
grep -qx '# edited by the operator' "$root/etc/mesoscaf/agent.ini" || fail "reinstalling replaced the edited agent.ini"
for path in /usr/bin/mesoscaf /usr/lib/libmesoscaf_sdk.a /usr/lib/cmake/mesoscaf/mesoscafConfig.cmake \
            /usr/lib/pkgconfig/mesoscaf.pc /usr/include/mesoscaf/actors/interfaces.hpp \
            /lib/systemd/system/mesoscaf-master.service /lib/systemd/system/mesoscaf-agent.service \
            /etc/default/mesoscaf-master /etc/default/mesoscaf-agent /etc/mesoscaf/master.ini \
            /etc/mesoscaf/agent.ini /etc/logrotate.d/mesoscaf; do
  check_file "$path"
done
if grep -rlF "$build" "$root/usr/bin" "$root/usr/lib" >/dev/null 2>&1; then
  fail "installed files name the build tree: $(grep -rlF "$build" "$root/usr/bin" "$root/usr/lib" | head -3)"
fi
pc_include="$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --cflags mesoscaf 2>&1)" ||
  fail "pkg-config --cflags mesoscaf: $pc_include"
pc_include_dir="$(sed -E 's/^-I([^ ]*).*/\1/' <<<"$pc_include")"
[ "$pc_include_dir" -ef "$root/usr/include/mesoscaf" ] ||
  fail "pkg-config names '$pc_include', not the installed headers"

# Man pages: gzip'd, and each renders with its name and its command's flags.
declare -A man_flag=([mesoscaf]="--version" [mesoscaf-master]="--work-dir" [mesoscaf-agent]="--resources"
                     [mesoscaf-local]="--agents" [mesoscaf-execute]="--command" [mesoscaf-certs]="--principal")
for page in "${!man_flag[@]}"; do
  file="$root/usr/share/man/man1/$page.1.gz"
  if [ ! -f "$file" ]; then fail "no man page $page(1) at /usr/share/man/man1/$page.1.gz"; continue; fi
  gzip -t "$file" || fail "$page.1.gz is not gzip"
  text="$(MANWIDTH=100 man -l "$file" 2>"$scratch/man.err")" ||
    fail "man -l $page.1.gz failed: $(cat "$scratch/man.err")"
  [[ "$text" == *"${page^^}(1)"* ]] || fail "$page(1) has no title ${page^^}(1)"
  [[ "$text" == *"$page - "* ]] || fail "$page(1) has no NAME line '$page - ...'"
  [[ "$text" == *"${man_flag[$page]}"* ]] || fail "$page(1) does not mention ${man_flag[$page]}"
done

# systemd units: systemd-analyze verify (any warning fails: it reports unknown keys and bad values on stderr with
# exit code 0), on copies whose ExecStart names the unpacked binary, since the host has no /usr/bin/mesoscaf ...
command -v systemd-analyze >/dev/null ||
  die "systemd-analyze not found (Debian package systemd; scripts/setup installs it)"
mkdir -p "$scratch/units"
for role in master agent; do
  sed "s|^ExecStart=/usr/bin/mesoscaf |ExecStart=$root/usr/bin/mesoscaf |" \
    "$root/lib/systemd/system/mesoscaf-$role.service" >"$scratch/units/mesoscaf-$role.service"
done
verify="$(systemd-analyze verify --man=no "$scratch"/units/*.service 2>&1)" && [ -z "$verify" ] ||
  fail "systemd-analyze verify: $verify"
# ... and the keys an operator relies on.
unit_has() { grep -qx -- "$2" "$root/lib/systemd/system/$1" || fail "$1 lacks the line '$2'"; }
for role in master agent; do
  unit=mesoscaf-$role.service
  unit_has $unit "ExecStart=/usr/bin/mesoscaf $role"
  unit_has $unit "Restart=on-failure"
  unit_has $unit "EnvironmentFile=-/etc/default/mesoscaf-$role"
  unit_has $unit "Environment=MESOSCAF_CONFIG_FILE=/etc/mesoscaf/$role.ini"
  unit_has $unit "LimitNOFILE=65536"
  unit_has $unit "WorkingDirectory=/var/lib/mesoscaf/$role"
  unit_has $unit "WantedBy=multi-user.target"
  # The /etc/default file is plain VAR=value lines (what EnvironmentFile= reads), also for a shell.
  (set -e; . "$root/etc/default/mesoscaf-$role") || fail "/etc/default/mesoscaf-$role does not parse"
done
unit_has mesoscaf-agent.service "User=root"
unit_has mesoscaf-master.service "User=mesoscaf"

# logrotate: a forced rotation with the packaged file, its paths moved into the root and its postrotate command
# recorded instead of signalling whatever runs on this host. The new file keeps the old one's owner and mode.
command -v logrotate >/dev/null || die "logrotate not found (Debian package logrotate; scripts/setup installs it)"
log_dir="$root/var/log/mesoscaf"
grep -q '^/var/log/mesoscaf/\*\.log {' "$root/etc/logrotate.d/mesoscaf" ||
  fail "logrotate file lacks /var/log/mesoscaf/*.log"
printf '#!/bin/sh\necho "systemctl $*" >>"%s"\n' "$scratch/postrotate.log" >"$scratch/systemctl"
chmod +x "$scratch/systemctl"
sed -e "s|^/var/log/mesoscaf/|$log_dir/|" -e 's|if \[ -d /run/systemd/system \]|if true|' \
    -e "s|^\([[:space:]]*\)systemctl |\1$scratch/systemctl |" "$root/etc/logrotate.d/mesoscaf" >"$scratch/logrotate.conf"
echo "a line" >"$log_dir/master.log"
chown "$mesoscaf_uid" "$log_dir/master.log" && chmod 0640 "$log_dir/master.log"
logrotate --force --state "$scratch/logrotate.state" "$scratch/logrotate.conf" >"$scratch/logrotate.log" 2>&1 ||
  fail "logrotate with the packaged file failed: $(cat "$scratch/logrotate.log")"
grep -qx "a line" "$log_dir/master.log.1" 2>/dev/null || fail "logrotate did not rotate master.log to master.log.1"
[ "$(stat -c '%u %a' "$log_dir/master.log" 2>/dev/null)" = "$mesoscaf_uid 640" ] ||
  fail "logrotate's new master.log is not the master's (uid $mesoscaf_uid, mode 640)"
grep -qx 'systemctl kill --kill-whom=main --signal=HUP mesoscaf-master.service mesoscaf-agent.service' \
  "$scratch/postrotate.log" 2>/dev/null || fail "logrotate did not send SIGHUP to both units after rotating"
((failures == 0)) || die "$failures problem(s) with the package's files"

# --- the installed binary ---
bin="$root/usr/bin/mesoscaf"
missing_libs="$(ldd "$bin" | grep 'not found')" && die "the installed binary lacks libraries: $missing_libs"
out="$("$bin" --version)" || die "mesoscaf --version failed: $out"
[[ "$out" =~ ^mesoscaf\ $version\ \(protocol\ mesoscaf\.v[0-9]+\)$ ]] || die "--version printed '$out'"

# A master and an agent from the installed binary and the packaged ini files; the test overrides what a shared
# test machine needs (free ports, scratch work dirs, no cgroups) through MESOSCAF_<FLAG> variables, as
# /etc/default/mesoscaf-* would.
MESOSCAF_CONFIG_FILE="$root/etc/mesoscaf/master.ini" MESOSCAF_WORK_DIR="$root/var/lib/mesoscaf/master" \
  MESOSCAF_PORT=0 MESOSCAF_HTTP_PORT=0 "$bin" master >"$scratch/master.log" 2>&1 &
pids+=($!)
line="$(wait_for_line "$scratch/master.log" 'master listening on [0-9.]+:[0-9]+' 60 "${pids[-1]}")" ||
  { cat "$scratch/master.log"; die "the installed master did not print 'master listening on' within 60 s"; }
master="${line#master listening on }"
# Its HTTP endpoint answers /health (bash's /dev/tcp: no HTTP client needed).
line="$(wait_for_line "$scratch/master.log" 'master http listening on [0-9.]+:[0-9]+' 60 "${pids[-1]}")" ||
  { cat "$scratch/master.log"; die "the installed master did not print 'master http listening on' within 60 s"; }
http="${line#master http listening on }"
status_line() {   # status_line IP:PORT PATH, within 10 s
  timeout 10 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
    printf "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3 && head -1 <&3' _ "$1" "$2"
}
health="$(status_line "$http" /health)"
[[ "$health" == "HTTP/1.1 200"* ]] || die "GET http://$http/health answered '$health', not 200"
MESOSCAF_CONFIG_FILE="$root/etc/mesoscaf/agent.ini" MESOSCAF_WORK_DIR="$root/var/lib/mesoscaf/agent" \
  MESOSCAF_PORT=0 MESOSCAF_HTTP_PORT=0 MESOSCAF_MASTER="$master" MESOSCAF_RESOURCES="cpus:1;mem:256;disk:100" \
  MESOSCAF_ISOLATION="posix/cpu,posix/mem" "$bin" agent >"$scratch/agent.log" 2>&1 &
pids+=($!)
wait_for_line "$scratch/agent.log" 'agent registered with id' 60 "${pids[-1]}" >/dev/null ||
  { cat "$scratch/agent.log"; die "the installed agent did not register with the master within 60 s"; }
timeout 120 "$bin" execute --master="$master" --name=package-test --command="echo hi" \
  --resources="cpus:0.1;mem:32" >"$scratch/execute.log" 2>&1
rc=$?
cat "$scratch/execute.log"
[ $rc -eq 0 ] || { cat "$scratch/agent.log"; die "the installed mesoscaf execute exited $rc, not 0"; }
grep -q '^TASK_FINISHED' "$scratch/execute.log" || die "execute printed no TASK_FINISHED"
# The agent ran the task with the installed binary as its command executor: the sandbox has the output.
find "$root/var/lib/mesoscaf/agent" -name stdout -exec grep -qx hi {} \; -print | grep -q . ||
  die "no sandbox stdout under the agent's work dir holds 'hi'"
# Purge: the daemons' state and the conffiles go, the user stays.
for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
pids=()
dpkg_root --purge mesoscaf || { cat "$scratch/dpkg.log"; die "dpkg --root --purge failed"; }
for path in /usr/bin/mesoscaf /var/lib/mesoscaf /var/log/mesoscaf /etc/mesoscaf/agent.ini /etc/default/mesoscaf-master; do
  [ ! -e "$root$path" ] || fail "purge left $path"
done
((failures == 0)) || die "$failures problem(s) with purging the package"
echo "integration_package: passed in $(($(date +%s) - start)) s"
