#!/bin/sh
# harden-check.sh: audit the SSH hardening of a host, changing nothing.
#
#   fleet run --script examples/harden-check.sh --canary 1 --batch 10% --max-failures 0 'web-*'
#   fleet run -b --script examples/harden-check.sh '@prod'              (group identical hosts)
#   fleet run --script examples/harden-check.sh 'web-*' -- /etc/ssh/sshd_config.new
#
# It prints the effective sshd settings it checks (from `sshd -T`), one
# per line as `sshd -T` writes them, so --expect '^permitrootlogin no$'
# works on its output, then one `FAIL ...` line per finding:
#
#   passwordauthentication  must be no
#   kbdinteractiveauthentication  must be no
#   permitrootlogin  must be no or prohibit-password (or forced-commands-only)
#   each authorized_keys file (AuthorizedKeysFile) of the login user, or of
#   every local user when run as root, and the directories above it up to
#   the home: must not be writable by group or others, and must belong to
#   the user or root
#
# Exit status: 0 nothing found, 1 some finding, 2 it could not check (no
# sshd, or `sshd -T` refused: it needs to read the host keys, so as another
# user than root it tries `sudo -n`). The optional argument is another
# sshd_config to read, as `sshd -T -f FILE`.
#
# fleet sends this script on stdin, so no command here may read stdin:
# each gets </dev/null.

set -f  # no globbing: AuthorizedKeysFile patterns are split, not expanded
config=${1:-}
findings=0

fail() {
    printf 'FAIL %s\n' "$*"
    findings=$((findings + 1))
}

sshd=
for candidate in "$(command -v sshd 2>/dev/null)" /usr/sbin/sshd /usr/local/sbin/sshd /sbin/sshd; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        sshd=$candidate
        break
    fi
done
if [ -z "$sshd" ]; then
    echo "cannot check: no sshd found in PATH, /usr/sbin or /usr/local/sbin"
    exit 2
fi

effective() {
    if [ -n "$config" ]; then
        "$@" "$sshd" -T -f "$config" </dev/null 2>&1
    else
        "$@" "$sshd" -T </dev/null 2>&1
    fi
}

if ! settings=$(effective env); then
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 &&
        settings=$(effective sudo -n); then
        :
    else
        echo "cannot check: sshd -T failed (it needs root to read the host keys):"
        printf '%s\n' "$settings" | head -n 3
        exit 2
    fi
fi

setting() {
    printf '%s\n' "$settings" | awk -v key="$1" '$1 == key { $1 = ""; sub(/^ /, ""); print; exit }'
}

password=$(setting passwordauthentication)
kbdinteractive=$(setting kbdinteractiveauthentication)
# OpenSSH before 8.7 calls it challengeresponseauthentication.
[ -n "$kbdinteractive" ] || kbdinteractive=$(setting challengeresponseauthentication)
rootlogin=$(setting permitrootlogin)
keyfiles=$(setting authorizedkeysfile)

echo "passwordauthentication ${password:-unknown}"
echo "kbdinteractiveauthentication ${kbdinteractive:-unknown}"
echo "permitrootlogin ${rootlogin:-unknown}"

[ "$password" = no ] || fail "passwordauthentication is ${password:-unknown}, want no"
[ "$kbdinteractive" = no ] || fail "kbdinteractiveauthentication is ${kbdinteractive:-unknown}, want no"
case $rootlogin in
    no | prohibit-password | without-password | forced-commands-only) ;;
    *) fail "permitrootlogin is ${rootlogin:-unknown}, want no or prohibit-password" ;;
esac

# Paths already checked, one per line, so a file shared by every user (an
# absolute AuthorizedKeysFile) is checked and reported once.
checked='
'

# seen PATH: whether PATH was checked already; marks it checked.
seen() {
    case $checked in *"
$1
"*) return 0 ;; esac
    checked="$checked$1
"
    return 1
}

# check_path USER PATH: PATH must not be writable by group or others and
# must belong to USER or root, as sshd's StrictModes wants.
check_path() {
    seen "$2" && return
    # GNU and busybox stat, then BSD stat.
    info=$(stat -c '%a %U' "$2" 2>/dev/null </dev/null) ||
        info=$(stat -f '%Lp %Su' "$2" 2>/dev/null </dev/null) || {
        fail "$2: cannot stat"
        return
    }
    mode=${info%% *}
    owner=${info#* }
    # The group and other digits of the octal mode: 2, 3, 6 and 7 hold w.
    group_other=$(printf '%s' "$mode" | awk '{ print substr($0, length($0) - 1) }')
    case $group_other in
        *[2367]*) fail "$2: mode $mode, writable by group or others" ;;
    esac
    if [ "$owner" != "$1" ] && [ "$owner" != root ]; then
        fail "$2: owned by $owner, not $1 or root"
    fi
}

# check_user USER HOME: every authorized_keys file of USER that exists,
# and the directories from it up to HOME (only its own directory, for a
# file outside HOME or a home of /).
check_user() {
    user=$1
    home=${2%/}
    [ "$keyfiles" = none ] && return
    for pattern in ${keyfiles:-.ssh/authorized_keys .ssh/authorized_keys2}; do
        file=$(printf '%s' "$pattern" |
            awk -v h="$home" -v u="$user" '{ gsub(/%h/, h); gsub(/%u/, u); gsub(/%%/, "%"); print }')
        case $file in /*) ;; *) file=$home/$file ;; esac
        [ -e "$file" ] || continue
        check_path "$user" "$file"
        under_home=
        case $file in "$home"/*) [ -n "$home" ] && under_home=1 ;; esac
        dir=${file%/*}
        while :; do
            check_path "$user" "${dir:-/}"
            if [ -z "$under_home" ] || [ "$dir" = "$home" ]; then
                break
            fi
            dir=${dir%/*}
        done
    done
}

if [ "$(id -u)" = 0 ]; then
    while IFS=: read -r name _ _ _ _ home _; do
        [ -n "$home" ] && [ -d "$home" ] && check_user "$name" "$home"
    done </etc/passwd
else
    check_user "$(id -un)" "$HOME"
fi

[ "$findings" = 0 ] || exit 1
