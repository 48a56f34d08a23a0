"""Check the CUDA path on a machine with a GPU: every benchmark method trains one short run (its paper's `fast` preset
on the tiny SynthPeds world) on the GPU with mixed precision and is evaluated. CI has no GPU, so this is run by hand:
`python tools/gpu_check.py [out.json]`; it exits non-zero if any method fails."""
import json, sys, tempfile, time, traceback
from pathlib import Path
import torch

from attrreid_nb.core import default_device, use_amp
from attrreid_nb.benchmark import BENCHMARK_METHODS, run_benchmark, leaderboard


def main(out=None):
    assert torch.cuda.is_available(), "this check needs a CUDA GPU"
    report = dict(device=torch.cuda.get_device_name(0), torch=torch.__version__, default_device=str(default_device()),
                  mixed_precision=use_amp('auto'), methods={})
    with tempfile.TemporaryDirectory() as tmp:
        for m in BENCHMARK_METHODS:  # one at a time, so one failure does not hide the others
            t = time.perf_counter()
            try:
                res = run_benchmark(tmp, fast=True, seeds=(0,), methods=[m], verbose=False)
                report['methods'][m.name] = dict(ok=True, seconds=round(time.perf_counter() - t, 1),
                                                 metrics={f"{r.task}/{r.metric}": round(r.value, 2) for r in res.itertuples()})
            except Exception as e:
                report['methods'][m.name] = dict(ok=False, error=f"{type(e).__name__}: {e}",
                                                 where=traceback.format_exc().splitlines()[-6:])
    report['peak_gpu_memory_gb'] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
    text = json.dumps(report, indent=1, default=str)
    print(text)
    if out: Path(out).write_text(text)
    return all(v['ok'] for v in report['methods'].values())


if __name__ == '__main__':
    sys.exit(0 if main(sys.argv[1] if len(sys.argv) > 1 else None) else 1)
