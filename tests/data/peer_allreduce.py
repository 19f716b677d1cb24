"""An independent measure of a two-rank gloo all-reduce: plain torch.distributed, no devicelab.

Each rank runs one thread. For each size (bytes per rank, argv), five untimed all-reduces,
then 30 timed ones, each alone, after a barrier; each rank takes their median, and the size's
time is the slower rank's (a collective ends for everybody when it ends for the last rank: the
same statistic the sweep reports). Prints one JSON object, ``{size: seconds}``.
"""

import json
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _rank(rank: int, port: int, sizes: list[int], queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    seconds = {}
    for size in sizes:
        tensor = torch.zeros(size // 4)
        for _ in range(5):
            dist.all_reduce(tensor)
        calls = []
        for _ in range(30):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(tensor)
            calls.append(time.perf_counter() - start)
        seconds[size] = statistics.median(calls)
    queue.put(seconds)
    dist.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    context = mp.get_context("spawn")
    queue = context.Queue()
    ranks = [
        context.Process(target=_rank, args=(r, free_port, [int(a) for a in sys.argv[1:]], queue))
        for r in range(2)
    ]
    for process in ranks:
        process.start()
    per_rank = [queue.get(timeout=120) for _ in ranks]
    for process in ranks:
        process.join()
    print(json.dumps({size: max(r[size] for r in per_rank) for size in per_rank[0]}))
