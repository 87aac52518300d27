#!/usr/bin/env python3
"""File-system workloads for Scripts/bench, timed in one process so that the
figures measure the file system and not process start-up.

Each timed command prints one number (a rate: higher is better) on stdout.
Write workloads end with sync() so that every target is measured to the point
where its data is on disk (NetStore's close() already waits for the servers).
"""
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def names(count):
    return [f"f{i:06d}" for i in range(count)]


def rate(count, seconds):
    print(f"{count / max(seconds, 1e-9):.3f}")


def create(directory, count, size):
    """Creates COUNT files of SIZE random bytes each (random so that no store can deduplicate them)."""
    os.makedirs(directory, exist_ok=True)
    payloads = [os.urandom(size) for _ in range(count)]
    start = time.perf_counter()
    for name, payload in zip(names(count), payloads):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(payload)
    os.sync()
    rate(count, time.perf_counter() - start)


def stat(directory, count):
    start = time.perf_counter()
    for name in names(count):
        os.stat(os.path.join(directory, name))
    rate(count, time.perf_counter() - start)


def read(directory, count, size):
    start = time.perf_counter()
    for name in names(count):
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        if len(data) != size:
            sys.exit(f"error: {name} has {len(data)} bytes, expected {size}")
    rate(count, time.perf_counter() - start)


def delete(directory, count):
    start = time.perf_counter()
    for name in names(count):
        os.unlink(os.path.join(directory, name))
    os.sync()
    rate(count, time.perf_counter() - start)


def tree_paths(root, fanout):
    """A tree three levels deep: fanout + fanout^2 + fanout^3 directories, parents first."""
    paths = []
    for a in range(fanout):
        pa = os.path.join(root, f"d{a}")
        paths.append(pa)
        for b in range(fanout):
            pb = os.path.join(pa, f"d{b}")
            paths.append(pb)
            paths.extend(os.path.join(pb, f"d{c}") for c in range(fanout))
    return paths


def mkdirs(root, fanout):
    paths = tree_paths(root, fanout)
    os.makedirs(root, exist_ok=True)
    start = time.perf_counter()
    for path in paths:
        os.mkdir(path)
    os.sync()
    rate(len(paths), time.perf_counter() - start)


def gentree(root, dirs, files_per_dir, max_kib):
    """The source tree copied by `cp -r`: small files of 1 KiB to MAX_KIB KiB of random bytes. Prints its size in bytes."""
    rng = random.Random(7)
    total = 0
    for d in range(dirs):
        directory = os.path.join(root, f"dir{d:03d}")
        os.makedirs(directory)
        for f in range(files_per_dir):
            size = rng.randint(1, max_kib) * 1024
            with open(os.path.join(directory, f"file{f:04d}.dat"), "wb") as out:
                out.write(os.urandom(size))
            total += size
    print(total)


def touch(directory, count, threads):
    """Creates COUNT empty files (the setup of the large-directory listing). Prints files/s."""
    os.makedirs(directory, exist_ok=True)

    def make(chunk):
        for name in chunk:
            os.close(os.open(os.path.join(directory, name), os.O_CREAT | os.O_WRONLY, 0o644))

    all_names = names(count)
    chunks = [all_names[i::threads] for i in range(threads)]
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, chunks))
    rate(count, time.perf_counter() - start)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create":
        create(args[0], int(args[1]), int(args[2]))
    elif command == "stat":
        stat(args[0], int(args[1]))
    elif command == "read":
        read(args[0], int(args[1]), int(args[2]))
    elif command == "delete":
        delete(args[0], int(args[1]))
    elif command == "mkdirs":
        mkdirs(args[0], int(args[1]))
    elif command == "count-dirs":
        print(len(tree_paths("", int(args[0]))))
    elif command == "gentree":
        gentree(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif command == "touch":
        touch(args[0], int(args[1]), int(args[2]))
    else:
        sys.exit(f"error: unknown command {command}")


if __name__ == "__main__":
    main()
