"""ASMR end to end: the `paper` preset itself (ResNet-50, 256×128) for one step of each stage and one evaluation,
on a handful of SynthPeds GPU-preset images, on CPU."""
import pytest
import torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.asmr import (AsmrConfig, asmr_data, asmr_dataloaders, asmr_learner, pretrain_learner,
                              evaluate_attribute_search, search_gallery, encode_images)


@pytest.fixture(scope='module')
def gpu_preset_data(gpu_preset_market):
    return asmr_data(gpu_preset_market)


def test_paper_preset_one_step_and_eval(gpu_preset_data):
    torch.set_num_threads(2)
    data = gpu_preset_data
    n = len(data.train_records)
    # batch = the whole training set: exactly one optimiser step per stage
    cfg = AsmrConfig.paper(imagenet=False, bs=n, pretrain_bs=n, epochs=1, pretrain_epochs=1, device='cpu')
    assert (cfg.arch, tuple(cfg.size), cfg.lam, cfg.sigma, cfg.gamma) == ('resnet50', (256, 128), 6., 12., .2)
    pre = pretrain_learner(asmr_dataloaders(data, cfg, stage=1), cfg)
    with pre.no_bar(), pre.no_logging(): pre.fit(1)
    learn = asmr_learner(asmr_dataloaders(data, cfg), cfg, pre.model.backbone)
    w0 = learn.model.attribute_weights.detach().clone()
    mlp0 = learn.model.category_encoder.mlp[0].weight.detach().clone()
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert learn.train_iter == 1
    assert not torch.equal(w0, learn.model.attribute_weights.detach())
    assert not torch.equal(mlp0, learn.model.category_encoder.mlp[0].weight.detach())
    assert [g['lr'] for g in learn.opt.opt.param_groups] == pytest.approx([1e-3, 1e-2, 1e-2])
    res = evaluate_attribute_search(learn.model, data, cfg.size)
    assert res['num_valid'] == len(data.search.query_keys)
    assert 0 <= res['mAP'] <= 1 and res['R1'] <= res['R5'] <= res['R10']
    feats = encode_images(learn.model, data.search.records, cfg.size)
    assert feats.shape == (len(data.search.records), 128)
    idx, scores = search_gallery(learn.model, data.categories, {'gender': 'female'}, feats, k=3)
    assert idx.shape == (3,) and bool((scores[:-1] >= scores[1:]).all())


def test_bad_inputs(gpu_preset_data):
    with pytest.raises(AttrReIDError, match='bs'):
        asmr_dataloaders(gpu_preset_data, AsmrConfig.fast(bs=10_000))
    with pytest.raises(AttrReIDError, match='dataset'):
        AsmrConfig.paper('cuhk_pedes')
    with pytest.raises(AttrReIDError, match='categories'):
        asmr_learner(object(), AsmrConfig.fast())
