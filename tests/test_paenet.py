"End to end: the `paper` preset (ResNet-50, 288×144) for one training step and one evaluation on CPU; bad inputs."
import numpy as np, pytest, torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.synth import SynthConfig
from attrreid_nb.data.readers import read_dataset, read_regdb, sysu_visible_pool
from attrreid_nb.paenet import *


def _gpu_world(tmp_path, name):
    cfg = SynthConfig.gpu(n_train_ids=4, n_val_ids=1, n_test_ids=2, n_categories=8, cameras_per_id=(3, 3),
                          images_per_camera=(1, 1), n_junk=0, n_distractors=1, regdb_images=2)
    return synthpeds_data(tmp_path, name, cfg, seed=0)


def test_paper_preset_one_step_and_eval(tmp_path):
    torch.set_num_threads(2)
    ds = read_dataset('sysu_mm01', _gpu_world(tmp_path, 'sysu_mm01'))
    paper = PAENetConfig.paper(pretrained=False, P=2, K=1, sysu_trials=1)
    assert paper.train.optimizer == 'sgd' and paper.train.milestones == (30, 50) and paper.train.epochs == 80 and paper.train.lr == 0.1
    cfg = paper.with_train(epochs=1, warmup_epochs=0, milestones=(), device='cpu')
    assert cfg.arch == 'resnet50' and tuple(cfg.size) == (288, 144) and cfg.heads == 8 and cfg.c_mid == 512 and cfg.loss_weights == 'mmd_code'
    learn = paenet_learner(paenet_dataloaders(ds.train, cfg, device='cpu'), cfg)
    assert learn.model.backbone.out_channels == 2048 and learn.model.backbone.specific_stages == 1
    learn.create_opt()
    gates_before = learn.model.pae.emb3.fcs.weight.detach().clone()
    x, pids, modality, attrs = learn.dls.train.one_batch()
    assert x.shape == (4, 3, 288, 144) and modality.tolist() == [0, 0, 1, 1]
    learn.model.train()
    out = learn.model(x, modality, attrs.float())
    assert out.pae.gates.shape == (4, 8, 2048) and out.pae.W2.shape == (4, 2048, 18, 9)  # the paper's 18×9 map
    loss = learn.loss_func(out, pids, modality, attrs)
    loss.backward(); learn.opt.step(); learn.opt.zero_grad()
    assert torch.isfinite(loss) and set(learn.loss_func.components) == {'id', 'hctri', 'mmd', 'atr', 'pred'}
    assert not torch.equal(gates_before, learn.model.pae.emb3.fcs.weight.detach())
    res = evaluate_sysu(learn.model, ds, cfg.size, learn.attribute_prior, sources=('predicted',), trials=1)  # 'true'/'mean': RegDB test
    assert {'R1', 'mAP', 'mINP', 'indoor R1', 'attr_acc'} <= set(res)
    assert all(0 <= v <= 100 for v in res.values() if not np.isnan(v))


def test_regdb_both_directions(tmp_path):
    torch.set_num_threads(2)
    rd = read_regdb(_gpu_world(tmp_path, 'regdb'), trial=1)
    cfg = PAENetConfig.fast(size=(64, 32), P=2, K=2).with_train(device='cpu')
    learn, res = train_and_evaluate(rd, cfg)
    for d in ('V→T ', 'T→V '):
        for s in ('', '@true', '@mean'): assert 0 <= res[f'{d}R1{s}'] <= 100


def test_bad_inputs(tmp_path):
    with pytest.raises(AttrReIDError, match='name'): synthpeds_data(tmp_path, 'market1501')
    with pytest.raises(AttrReIDError, match='test_attributes'): PAENetConfig(test_attributes='gt')
    with pytest.raises(AttrReIDError, match='loss_weights'): PAENetConfig(loss_weights='code')
    with pytest.raises(AttrReIDError, match='P/K'): PAENetConfig(P=1)
    net = paenet_model(PAENetConfig.fast(), n_ids=3).eval()
    x = torch.randn(2, 3, 48, 24)
    with pytest.raises(AttrReIDError, match='attribute matrix'): net(x, 'rgb', torch.zeros(2, 7))
    with pytest.raises(AttrReIDError, match='modality'): net(x, 'thermal')
    with pytest.raises(AttrReIDError, match='feats/pids'): weighted_regularized_triplet_loss(torch.randn(2, 4), torch.tensor([0, 1, 1]))
    out = net.train()(torch.randn(4, 3, 48, 24), torch.tensor([0, 1, 0, 1]), torch.zeros(4, 8))
    with pytest.raises(AttrReIDError, match='targets'): attribute_bce(out.attr_logits, torch.zeros(4, 3))
    with pytest.raises(AttrReIDError, match='out'): PAENetLoss()(tuple(out), torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1]), torch.zeros(4, 8))


def test_attribute_predictor_varies_and_beats_majority(tmp_path):
    "The 'predicted' source: on a small world the head's answers differ between images and beat the majority rate per modality."
    torch.set_num_threads(1)
    world = SynthConfig.tiny(n_train_ids=60, n_test_ids=30, n_categories=40, ir_images_per_id=(4, 4), images_per_camera=(1, 2))
    ds = read_dataset('sysu_mm01', synthpeds_data(tmp_path, 'sysu_mm01', world))
    cfg = PAENetConfig.fast(use_pae=False, use_aal=False).with_train(epochs=8, lr=2e-3, device='cpu')
    learn = paenet_learner(paenet_dataloaders(ds.train, cfg, device='cpu'), cfg)
    with learn.no_bar(), learn.no_logging(): learn.fit(cfg.train.epochs)
    recs = ds.query + sysu_visible_pool(ds)
    rep = attribute_report(recs, predict_attributes(learn.model, recs, cfg.size))
    assert list(rep.index) == ['ir', 'rgb']
    assert (rep.distinct > 1).all() and (rep.prob_std > 0.02).all(), rep  # not one answer for every image
    assert (rep.accuracy > rep.majority + 1).all(), rep  # better than always answering the majority value


def test_saved_reproduction_supports_the_reading():
    "The statements of 14_paenet's 'Reading it' paragraph, checked against nbs/results/paenet_{runs,verdicts}.csv."
    import pandas as pd
    from pathlib import Path
    res = Path(__file__).resolve().parents[1]/'nbs'/'results'
    if not (res/'paenet_runs.csv').exists(): pytest.skip('no saved reproduction')
    runs, verdicts = pd.read_csv(res/'paenet_runs.csv'), pd.read_csv(res/'paenet_verdicts.csv')
    last = lambda curves: curves.map(lambda c: float(str(c).split()[-1]))  # each run's last epoch
    for col in ('L_pred_curve', 'L_atr_curve'): runs[col + '_last'] = last(runs[col].fillna('nan'))
    r = runs[runs.source == 'predicted'].groupby('row').mean(numeric_only=True)  # mean over seeds
    for row in ('baseline (MMD)', '+AAL'):  # the head beats the majority rate where the backbone must see attributes
        for m in ('ir', 'rgb'): assert r.loc[row, f'attr_acc_{m}'] > r.loc[row, f'attr_majority_{m}'] + 3
    for row in ('+PAE', 'PAENet (+PAE +AAL)'):  # ... and stays at it where the attributes are an input
        for m in ('ir', 'rgb'): assert abs(r.loc[row, f'attr_acc_{m}'] - r.loc[row, f'attr_majority_{m}']) < 1
        assert r.loc[row, 'attr_distinct_ir'] < 20 and r.loc[row, 'L_pred_curve_last'] > r.loc['baseline (MMD)', 'L_pred_curve_last']
    a = runs.groupby('row').mean(numeric_only=True)
    assert a.loc['PAENet (+PAE +AAL) · true attributes', 'R1'] > a.loc['attribute lookup · true attributes', 'R1']
    assert a.loc['PAENet (+PAE +AAL) · true attributes', 'mAP'] > a.loc['attribute lookup · true attributes', 'mAP']
    v = verdicts.set_index(['claim', 'metric'])
    assert v.loc[('baseline (MMD) → PAENet (+PAE +AAL) [true attributes]', 'R1'), 'ci_low'] > 7.47  # more than the paper's gain
    assert v.loc[('baseline (MMD) → +PAE [true attributes]', 'R1'), 'verdict'] == 'reversed'
    # the copy effect: with PAE, AAL ends at a small fraction of what +AAL (which must recognise) ends at
    assert a.loc['PAENet (+PAE +AAL)', 'L_atr_curve_last'] < 0.1 * a.loc['+AAL', 'L_atr_curve_last'] and a.loc['+AAL', 'L_atr_curve_last'] > 1.0
    assert runs[runs.epochs > 0].converged.all()
