"End to end: the `paper` preset (full-size ResNet-50, 384×128) for one training step and one evaluation on CPU."
import numpy as np, torch
from dataclasses import replace
from attrreid_nb.data.synth import SynthConfig, make_world, write_market1501
from attrreid_nb.data.readers import read_dataset
from attrreid_nb.cerberus import *


def test_paper_preset_one_step_and_eval(tmp_path):
    torch.set_num_threads(2)
    world = make_world(SynthConfig.gpu(n_train_ids=4, n_val_ids=0, n_test_ids=2, n_categories=8, cameras_per_id=(3, 3),
                                       images_per_camera=(1, 1), n_junk=0, n_distractors=1), seed=0)
    write_market1501(world, tmp_path)
    ds = read_dataset('market1501', tmp_path)
    cfg = CerberusConfig.paper(pretrained=False, P=2, K=2).with_train(epochs=1, warmup_epochs=0, device='cpu')
    assert cfg.arch == 'resnet50' and tuple(cfg.size) == (384, 128) and cfg.dim == 512 and cfg.align_threshold == 5.0
    learn = cerberus_learner(cerberus_dataloaders(ds.train, cfg, device='cpu'), cfg)
    learn.create_opt()
    before = learn.model.prototypes['upper'].detach().clone()
    x, pids, attrs = learn.dls.train.one_batch()
    assert x.shape == (4, 3, 384, 128)
    learn.model.train()
    out = learn.model(x)
    loss = learn.loss_func(out, pids, attrs)
    loss.backward(); learn.opt.step(); learn.opt.zero_grad()
    assert torch.isfinite(loss) and set(learn.loss_func.components) == {'id', 'sem', 'reg'}
    assert not torch.equal(before, learn.model.prototypes['upper'].detach())
    res = evaluate_cerberus(learn.model, learn.codec, ds, cfg.size)
    assert {'reid_mAP', 'aps_mAP', 'par_mean_acc'} <= set(res)
    assert all(0 <= v <= 100 for v in res.values() if not np.isnan(v))


def test_reproduction_runner_in_forked_workers(tmp_path):
    "The reproduction's path: rows × seeds in two forked workers, a Fig. 7(b) row with its relation row, tables that save and load."
    import pandas as pd
    from attrreid_nb.verdicts import verdict_table, save_reproduction, load_reproduction
    write_market1501(make_world(SynthConfig.tiny(), seed=0), tmp_path/'data')
    ds = read_dataset('market1501', tmp_path/'data')
    cfg = CerberusConfig.synth_v2(pretrained=False, P=4, K=2, dim=16).with_train(epochs=1, warmup_epochs=0, device='cpu')
    record, keep = {}, {}
    res = run_cerberus_rows(ds, {'a': dict(lambda_reg=0.0), 'b': dict(unseen_k=1)}, cfg, seeds=(0, 1), max_share=0.5,
                            subsets=dict(half=np.arange(len(ds.query)) % 2 == 0), record=record, keep=keep, verbose=False, workers=2)
    runs, queries = pd.DataFrame(record['runs']), pd.concat(record['queries'], ignore_index=True)
    assert list(dict.fromkeys(runs.row)) == list(dict.fromkeys(res.row)) == ['a', 'b', 'b' + RELATION_SUFFIX] and len(runs) == 6
    assert (runs[runs.row != 'a'].removed_persons > 0).all() and runs.seconds.notna().all()
    assert set(keep) == {('a', 0), ('b', 0)} and all(len(k.model.prototypes) == 5 for k in keep.values())
    assert {'reid_mAP_half', 'aps_unseen_mAP', 'par_mA', 'par_mean_acc'} <= set(queries.metric)
    v = verdict_table(queries, [('b against a', 'toy', 'a', 'b', 'reid_mAP', 1.0)], runs)
    assert v.seeds.tolist() == [2] and not v.converged.iloc[0]  # one epoch: never judged converged
    save_reproduction('toy', runs, queries, v, root=tmp_path/'results')
    saved_runs, saved_queries, _ = load_reproduction('toy', root=tmp_path/'results')
    assert len(saved_queries) == len(queries) and int(saved_runs.derived_from.isna().sum()) == 4
