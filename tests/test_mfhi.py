"""MFHI end to end: the `paper` preset itself (ResNet-50, 256×128, Φ 35→1024→2048) for one episodic training step and
one evaluation of the three tasks, on a handful of SynthPeds GPU-preset images, on CPU; plus the episode plumbing."""
import numpy as np
import pytest
import torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.loaders import EpisodeCallback
from attrreid_nb.data.synth import SynthConfig, make_world, write_market1501
from attrreid_nb.data.readers import read_dataset
from attrreid_nb.mfhi import MFHIConfig, mfhi_dataloaders, mfhi_learner, evaluate_mfhi, semantic_id_labels


def test_paper_preset_one_step_and_eval(gpu_preset_market):
    torch.set_num_threads(2)
    ds = gpu_preset_market
    cfg = MFHIConfig.paper(pretrained=False, n_way=2, k_shot=2).with_train(epochs=1, device='cpu')
    assert (cfg.arch, tuple(cfg.size), cfg.top_d, cfg.plm_hidden, cfg.scale, cfg.margin) == ('resnet50', (256, 128), 8, 1024, 64., .2)
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.optimizer) == (5e-5, 5e-4, 'adam')
    learn = mfhi_learner(mfhi_dataloaders(ds.train, cfg, device='cpu'), cfg)
    learn.create_opt()
    assert learn.model.dim == 2048 and learn.model.plm.net[0].in_features == 35 and learn.model.plm.net[0].out_features == 1024
    x, pids, attrs = learn.dls.train.one_batch()
    assert x.shape == (4, 3, 256, 128)
    cb = learn.cbs.filter(lambda c: isinstance(c, EpisodeCallback))[0]
    learn.xb, learn.yb = (x,), (pids, attrs)
    cb.before_batch()
    learn.model.train()
    before = learn.model.plm.net[0].weight.detach().clone()
    out = learn.model(*learn.xb)
    assert out['attention'].shape == (4, 1, 16, 8) and out['top_idx'].shape == (4, 8)  # last stride 1: 16×8 maps
    loss = learn.loss_func(out, *learn.yb)
    loss.backward(); learn.opt.step(); learn.opt.zero_grad()
    assert torch.isfinite(loss) and set(learn.loss_func.components) == {'dcm', 'cea'}  # Φ prototypes only: no FC term
    assert not torch.equal(before, learn.model.plm.net[0].weight.detach())
    res = evaluate_mfhi(learn.model, ds, cfg.size)
    assert {'i2a_top1', 'a2i_R1', 'a2i_mAP', 'a2ic_mAP', 'i2i_R1', 'i2i_mAP', 'i2i_rr_mAP'} <= set(res)
    assert all(0 <= v <= 100 for v in res.values())


def test_loss_sees_only_the_episode(gpu_preset_market):
    "A batch whose identities are not the episode's classes is refused, not silently mis-targeted."
    ds = gpu_preset_market
    cfg = MFHIConfig.fast(arch='small', size=(64, 32), episodes='identity')  # the fixture has 2 semantic IDs
    learn = mfhi_learner(mfhi_dataloaders(ds.train, cfg, device='cpu'), cfg)
    x, pids, attrs = learn.dls.train.one_batch()
    ep = learn.cbs.filter(lambda c: isinstance(c, EpisodeCallback))[0].episode(pids)
    out = learn.model(torch.nn.functional.interpolate(x, size=(64, 32)), ep.class_attributes)
    assert len(out['prototypes']) <= len(ep.classes) <= cfg.n_way
    with pytest.raises(AttrReIDError, match='classes of the episode'):
        learn.loss_func(out, torch.arange(len(pids)), attrs)


def test_face_protocol_runs(tmp_path):
    "The face path (CelebA-like: 40 image-level attributes, train/test only, identity classes) trains and evaluates I2A/A2I."
    from dataclasses import replace
    from attrreid_nb.data.readers import ReIDDataset
    from attrreid_nb.data.attributes import get_schema
    world = make_world(SynthConfig.tiny(), seed=0)
    write_market1501(world, tmp_path)
    ds = read_dataset('market1501', tmp_path)
    rng = np.random.default_rng(0)
    face = lambda recs: [replace(r, attributes=tuple(int(v) for v in rng.integers(0, 2, 40))) for r in recs if r.attributes is not None]
    faces = ReIDDataset('celeba', tmp_path, train=face(ds.train), test=face(ds.query + ds.gallery), attribute_schema=get_schema('celeba'))
    cfg = MFHIConfig.paper_faces(arch='small', pretrained=False, size=(64, 32), n_way=4, k_shot=2, plm_hidden=16,
                                 small_widths=(8, 8, 16, 16), small_strides=(1, 2, 1)).with_train(epochs=1, device='cpu')
    assert cfg.top_d == 10 and not cfg.semantic_ids and not cfg.use_fc and cfg.episodes == 'identity'
    learn = mfhi_learner(mfhi_dataloaders(faces.train, cfg, device='cpu'), cfg)
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert {'epoch', 'dcm', 'cea', 'prototypes/episode', 'dcm_uniform', 'proto_cos_mean', 'cos_d'} <= set(learn.mfhi_log.history[0])
    res = evaluate_mfhi(learn.model, faces, cfg.size)
    assert {'i2a_top1', 'a2i_R1', 'a2i_mAP'} <= set(res) and not any(k.startswith('i2i') for k in res)


def test_training_spreads_the_prototypes(tmp_path):
    """The mechanism on a small world (22 training semantic IDs): with the SynthPeds preset's switches (semantic-ID
    episodes, r = 16, margin warm-up), training spreads Φ's prototypes (mean cosine well below its initial value and
    below cos d, the margin condition) and L_DCM falls below ln N, the loss of a uniform guess. A collapsed embedding
    (issue 18: mean cosine 0.976, DCM above ln N) fails every assertion."""
    import math
    from dataclasses import replace
    from attrreid_nb.data.synth import synthpeds_dataset
    torch.set_num_threads(1)
    root = synthpeds_dataset(tmp_path, 'market1501', replace(SynthConfig.tiny(), n_train_ids=40, n_categories=40, images_per_camera=(1, 2)))
    ds = read_dataset('market1501', root)
    assert len(np.unique(semantic_id_labels(ds.train, ds.attribute_schema))) >= 16
    cfg = MFHIConfig.fast(n_way=8, margin_warmup=10.).with_train(epochs=40, seed=0, device='cpu')
    learn = mfhi_learner(mfhi_dataloaders(ds.train, cfg, device='cpu'), cfg)
    with learn.no_bar(), learn.no_logging(): learn.fit(cfg.train.epochs)
    first, last, log = learn.mfhi_log.initial, learn.mfhi_log.history[-1], learn.mfhi_log
    assert last['prototypes/episode'] == cfg.n_way  # semantic-ID episodes: N distinct prototypes
    assert last['proto_cos_mean'] < first['proto_cos_mean'] - 0.2, (first, last)
    assert last['proto_cos_mean'] < math.cos(cfg.margin) - 0.3 and last['proto_cos_mean'] < last['cos_d'], last
    assert last['dcm'] < 0.75 * last['dcm_uniform'] and abs(last['dcm_uniform'] - math.log(cfg.n_way)) < 1e-9, last
    assert last['cea'] < last['cea_constant'], last
    assert all(h['dcm'] < log.history[0]['dcm'] for h in log.history[-3:])
