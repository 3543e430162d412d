"""Python's subprocess for tools/bench: the same modes and output as
floor.c (see there), written the way a Python user would."""
import subprocess
import sys
import time


def now_us():
    return time.monotonic_ns() / 1e3  # CLOCK_MONOTONIC, as stamp.c


def waited(p):
    if p.wait() != 0:
        sys.exit("child failed")


def spawn(n, cmd):
    for _ in range(n):
        t0 = now_us()
        waited(subprocess.Popen(cmd))
        print(f"{now_us() - t0:.1f}")


def many(n, cmd):
    t0 = now_us()
    ps = [subprocess.Popen(cmd) for _ in range(n)]
    for p in ps:
        waited(p)
    print(f"{(now_us() - t0) / 1e3:.1f}")


def read(cmd):
    # Unbuffered: each read() is one read(2) of up to 64 KiB.
    t0, total = now_us(), 0
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, bufsize=0)
    while True:
        b = p.stdout.read(65536)
        if not b:
            break
        total += len(b)
    waited(p)
    print(f"{total / ((now_us() - t0) * 1e3):.3f}")
    if total != 1 << 30:
        print(f"read {total} bytes", file=sys.stderr)


def exit_latency(n, cmd):
    for _ in range(n):
        waited(subprocess.Popen(cmd))
        t = now_us()
        with open(cmd[1]) as f:
            print(f"{t - int(f.read()) / 1e3:.1f}")


mode, rest = sys.argv[1], sys.argv[2:]
if mode == "read":
    read(rest)
else:
    {"spawn": spawn, "many": many, "exit": exit_latency}[mode](
        int(rest[0]), rest[1:])
