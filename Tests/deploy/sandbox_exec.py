#!/usr/bin/env python3
"""Runs a command under the kernel-level restrictions of deploy/systemd/recovery-gateway.service, as
systemd would apply them, so the tests can check that the gateway works inside them:

  NoNewPrivileges=yes            prctl(PR_SET_NO_NEW_PRIVS)
  MemoryDenyWriteExecute=yes     both ways systemd implements it: prctl(PR_SET_MDWE,
                                 PR_MDWE_REFUSE_EXEC_GAIN) (Linux >= 6.3, newer systemd), and the
                                 seccomp filter of systemd <= 253 (Debian 12's 252): mmap with
                                 PROT_WRITE|PROT_EXEC, mprotect/pkey_mprotect with PROT_EXEC and shmat
                                 with SHM_EXEC fail with EPERM
  SystemCallFilter=@system-service + ~@privileged @resources, SystemCallErrorNumber=EPERM
                                 a seccomp allow-list (libseccomp, through pyseccomp) of the syscalls
                                 `systemd-analyze syscall-filter` lists for those sets, plus @default
                                 (systemd adds it to every allow-list); anything else fails with EPERM.
  SystemCallArchitectures=native the filter is built for the native architecture only.
  RestrictAddressFamilies=...    socket() is allowed only for those families (systemd answers others
                                 with EAFNOSUPPORT, this filter with EPERM).

Not emulated: the file-system and user settings (DynamicUser, ProtectSystem, PrivateTmp, ...).

Usage: sandbox_exec.py [--filter SETS] [--address-families FAMILIES] -- COMMAND [ARG...]
"""

import argparse
import ctypes
import errno
import os
import socket
import subprocess
import sys

import pyseccomp as seccomp

PR_SET_NO_NEW_PRIVS = 38
PR_SET_MDWE = 65
PR_GET_MDWE = 66
PR_MDWE_REFUSE_EXEC_GAIN = 1


def syscall_sets():
    """Every named set of `systemd-analyze syscall-filter`: name -> its items (syscalls or @sets)."""
    out = subprocess.run(
        ["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True, check=True
    ).stdout
    sets, current = {}, None
    for line in out.splitlines():
        item = line.strip()
        if not item or item.startswith("#"):
            continue
        if not line.startswith(" ") and item.startswith("@"):
            current = sets.setdefault(item, [])
        elif current is not None:
            current.append(item)
    return sets


def expand(name, sets):
    if not name.startswith("@"):
        return {name}
    if name not in sets:
        raise SystemExit(f"sandbox_exec: unknown syscall set {name}")
    found = set()
    for item in sets[name]:
        found |= expand(item, sets)
    return found


def allowed_syscalls(spec):
    """`@a @b ~@c @d`: the union of the sets before `~`, less those after it, plus @default."""
    sets = syscall_sets()
    allow_part, _, deny_part = spec.partition("~")
    allowed = set().union(*(expand(n, sets) for n in allow_part.split())) | expand("@default", sets)
    denied = set().union(*(expand(n, sets) for n in deny_part.split())) if deny_part.strip() else set()
    return allowed - denied


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--filter",
        default="@system-service ~@privileged @resources",
        help="the unit's SystemCallFilter= lines joined (default: %(default)s)",
    )
    parser.add_argument(
        "--address-families",
        default="AF_INET AF_INET6 AF_UNIX",
        help="the unit's RestrictAddressFamilies= (default: %(default)s)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    names = allowed_syscalls(args.filter)
    families = [getattr(socket, name) for name in args.address_families.split()]
    names.discard("socket")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SystemExit(f"sandbox_exec: PR_SET_NO_NEW_PRIVS failed: {os.strerror(ctypes.get_errno())}")
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise SystemExit(f"sandbox_exec: PR_SET_MDWE failed (Linux >= 6.3 needed): {os.strerror(ctypes.get_errno())}")

    # A filter of its own, as systemd stacks its MemoryDenyWriteExecute= filter: the kernel applies the
    # most restrictive answer of all loaded filters. Loaded first: the allow-list forbids seccomp().
    write_execute = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    prot_exec, prot_write, shm_exec = 0x4, 0x2, 0o100000
    both = prot_exec | prot_write
    write_execute.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, both, both))
    for name in ("mprotect", "pkey_mprotect"):
        write_execute.add_rule(
            seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(2, seccomp.MASKED_EQ, prot_exec, prot_exec)
        )
    write_execute.add_rule(seccomp.ERRNO(errno.EPERM), "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, shm_exec, shm_exec))
    write_execute.load()

    sandbox = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    added = 0
    for name in sorted(names):
        try:
            sandbox.add_rule(seccomp.ALLOW, name)
            added += 1
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture (systemd skips those too)
    for family in families:
        sandbox.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, int(family)))
    sandbox.load()
    print(
        f"sandbox_exec: {added} syscalls allowed, socket() for {args.address_families}, MDWE on, no new privileges",
        file=sys.stderr,
        flush=True,
    )
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
