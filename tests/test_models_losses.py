"End-to-end checks of `attrreid_nb.models` + `attrreid_nb.losses` that do not belong in a notebook."
import warnings
import pytest
import torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from attrreid_nb.core import AttrReIDError, set_seed
from attrreid_nb.models import ReIDOutput, reid_net, resnet50_backbone
from attrreid_nb.losses import ReIDLoss, hetero_center_triplet_loss, margin_mmd_loss


def _pk_dls(n_ids=4, k=2, size=(64, 32), bs=8):
    "Images ordered by identity, not shuffled: every batch of `bs` holds bs//k identities with k images each."
    set_seed(0)
    pids = torch.arange(n_ids).repeat_interleave(k)
    imgs = torch.randn(len(pids), 3, *size) + pids.view(-1, 1, 1, 1).float()
    items = list(zip(imgs, pids))
    return DataLoaders(DataLoader(items, bs=bs, shuffle=False, drop_last=True),
                       DataLoader(items, bs=bs, shuffle=False), device='cpu')


def test_learner_trains_and_gathers_reidnet_outputs():
    "fastai's Learner fits, validates and gathers (`get_preds`) the `ReIDOutput` of a `ReIDNet` trained with `ReIDLoss`."
    dls = _pk_dls()
    learn = Learner(dls, reid_net(4, arch='small'), loss_func=ReIDLoss())
    with learn.no_logging(): learn.fit(2, lr=1e-2)
    preds, targs = learn.get_preds()
    assert isinstance(preds, ReIDOutput) and set(preds.keys()) == {'feat', 'feat_bn', 'logits', 'embedding'}
    assert preds['embedding'].shape == (8, 128) and targs.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_training_step_lowers_the_loss():
    "A few SGD steps on one fixed PK batch lower the baseline loss (the gradients point the right way)."
    set_seed(1)
    net = reid_net(4, arch='small', pool='gem')
    x, pids = torch.randn(8, 3, 64, 32), torch.arange(4).repeat_interleave(2)
    loss_fn, opt = ReIDLoss(), torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        loss = loss_fn(net(x), pids); opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_two_stream_batch_with_paenet_baseline_losses():
    "A cross-modal P x K batch through a two-stream net feeds the hetero-centre triplet and MMD losses."
    set_seed(2)
    net = reid_net(3, arch='small', specific_stages=1, pool='gem')
    pids = torch.arange(3).repeat_interleave(2).repeat(2)  # 3 ids x 2 visible, then the same x 2 infrared
    mod = torch.tensor([0] * 6 + [1] * 6)
    out = net(torch.randn(12, 3, 64, 32), mod)
    loss = hetero_center_triplet_loss(out['feat'], pids, mod) + margin_mmd_loss(out['feat'], pids, mod, margin=0.0)
    loss.backward()
    stems = net.backbone.stages['stem'].branches
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for s in stems.values() for p in s.parameters())


def test_resnet50_never_downloads(tmp_path, monkeypatch):
    "With an empty hub cache, pretrained=True warns and starts from scratch, writing nothing to the cache."
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path))
    with pytest.warns(UserWarning, match='training starts from scratch'):
        resnet50_backbone(pretrained=True)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(AttrReIDError, match='does not exist'):
        resnet50_backbone(pretrained=tmp_path / 'nope.pth')
