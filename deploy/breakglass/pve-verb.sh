#!/usr/bin/env bash
# The forced command of breakglass's key on the Proxmox host (see README.md here):
#
#   restrict,command="/usr/local/sbin/pve-verb.sh" ssh-ed25519 AAAA… breakglass
#
# sshd runs this script whatever the client asked for; the request is in SSH_ORIGINAL_COMMAND. It
# must be exactly one whitelisted verb: no arguments, no whitespace, no shell. The VM id comes
# from this host's configuration (PVE_VMID in /etc/default/pve-verb, default 102), never from
# the client.
set -euo pipefail
export LC_ALL=C

if [[ -r /etc/default/pve-verb ]]; then
  # shellcheck source=/dev/null
  . /etc/default/pve-verb
fi
readonly VMID="${PVE_VMID:-102}"
# Overridable for tests only: sshd's SetEnv reaches a forced command, the client's environment does not.
readonly QM="${QM_BIN:-qm}"
readonly PVENODE="${PVENODE_BIN:-pvenode}"
# A clean stop waits this long for the guest to power off after ACPI before it is forced off.
readonly SHUTDOWN_TIMEOUT="${PVE_SHUTDOWN_TIMEOUT:-120}"
readonly VERBS="status forensics reset stop start cycle"

refuse() {
  printf 'pve-verb: %s\n' "$1" >&2
  exit 2
}

[[ "$VMID" =~ ^[1-9][0-9]{2,8}$ ]] || refuse "PVE_VMID is not a VM id"
[[ "$SHUTDOWN_TIMEOUT" =~ ^[1-9][0-9]{0,3}$ ]] || refuse "PVE_SHUTDOWN_TIMEOUT is not a number of seconds"

# Unset (an interactive login) and empty are refused like everything else not listed.
request="${SSH_ORIGINAL_COMMAND-}"
case "$request" in
  status | forensics | reset | stop | start | cycle) verb="$request" ;;
  *) refuse "refused; the only commands are: $VERBS" ;;
esac

# An audit line in the host's journal; its absence (no syslog in a test) is not an error.
client="${SSH_CLIENT:-local}"
logger -t pve-verb -p auth.notice -- "verb=$verb vmid=$VMID client=${client%% *}" 2>/dev/null || true

section() { printf '\n== %s ==\n' "$1"; }

# Stops cleanly: ACPI shutdown, then forced off if the guest has not stopped after the timeout.
clean_stop() {
  "$QM" shutdown "$VMID" --timeout "$SHUTDOWN_TIMEOUT" --forceStop 1
}

is_running() {
  local state
  state="$("$QM" status "$VMID")"
  [[ "$state" == *"status: running"* ]]
}

rc=0
case "$verb" in
  status)
    "$QM" status "$VMID" --verbose
    ;;
  forensics)
    # Read-only evidence, collected before anything is restarted. Each part runs even if another fails.
    section "qm status $VMID --verbose"
    "$QM" status "$VMID" --verbose || rc=$?
    section "qm config $VMID"
    "$QM" config "$VMID" || rc=$?
    section "recent tasks of VM $VMID (pvenode task list)"
    "$PVENODE" task list --vmid "$VMID" --limit 10 || rc=$?
    ;;
  reset)
    "$QM" reset "$VMID"
    ;;
  stop)
    clean_stop
    ;;
  start)
    "$QM" start "$VMID"
    ;;
  cycle)
    if is_running; then
      clean_stop
    else
      echo "VM $VMID is not running; starting it"
    fi
    "$QM" start "$VMID"
    ;;
esac
if ((rc == 0)); then
  echo "pve-verb: $verb done (VM $VMID)"
else
  echo "pve-verb: $verb finished with errors (VM $VMID)" >&2
fi
exit "$rc"
