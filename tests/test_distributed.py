"Distributed training on CPU: two `torchrun` processes (gloo), PK batches sharded by identity, identical replicas."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

SCRIPT = r'''
import json, os, sys, torch
from torch import nn
from attrreid_nb.core import set_seed
from attrreid_nb.data.loaders import write_fixture_images, reid_dataloaders
from attrreid_nb.learner import reid_learner, TrainConfig, init_distributed, DDPTrainer
out = sys.argv[1]
rank, world = init_distributed()
records = write_fixture_images(os.path.join(out, f'imgs{rank}'), n_ids=12, size=(32, 16), seed=0)
set_seed(0)
dls = reid_dataloaders(records, size=(32, 16), sampler='pk', P=3, K=2, targets=('pid',), world_size=world, rank=rank,
                       device='cpu', seed=0)
seen = [sorted(set(b[1].tolist())) for b in dls.train]
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(8, 12)
    def forward(self, x): return self.classifier(self.backbone(x))
set_seed(0)
learn = reid_learner(dls, Net(), nn.CrossEntropyLoss(), TrainConfig(epochs=2, lr=1e-2, device='cpu', mixed_precision=False),
                     cbs=[DDPTrainer()])
with learn.no_bar(): learn.fit(2)
w = torch.cat([p.detach().flatten() for p in learn.model.parameters()])
json.dump(dict(rank=rank, world=world, weights=w.tolist(), seen=seen), open(os.path.join(out, f'rank{rank}.json'), 'w'))
'''

def test_torchrun_two_cpu_processes(tmp_path):
    torchrun = Path(sys.executable).parent/'torchrun'
    if not torchrun.exists(): pytest.skip('torchrun not installed next to this python')
    (tmp_path/'train.py').write_text(SCRIPT)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    out = subprocess.run([str(torchrun), '--nproc_per_node', '2', '--master_port', '29533', str(tmp_path/'train.py'), str(tmp_path)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path/f'rank{r}.json').read_text()) for r in (0, 1))
    assert (r0['world'], r1['world']) == (2, 2)
    assert r0['weights'] == r1['weights'], "replicas diverged: gradients were not averaged"
    assert len(r0['seen']) == len(r1['seen']) > 0
    for ids0, ids1 in zip(r0['seen'], r1['seen']):
        assert len(ids0) == len(ids1) == 3 and not set(ids0) & set(ids1), "an identity was split across ranks"
