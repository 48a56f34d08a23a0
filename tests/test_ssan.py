"SSAN end to end: the `paper` preset (ResNet-50, 384×128, M = 1024) for one training step and one evaluation on CPU, plus loss properties."
import numpy as np, pytest, torch
from attrreid_nb.core import AttrReIDError, set_seed
from attrreid_nb.data.synth import SynthConfig, make_world, write_cuhk_pedes
from attrreid_nb.data.readers import read_dataset, read_word_parts
from attrreid_nb.ssan import *


def test_paper_preset_one_step_and_eval(tmp_path):
    torch.set_num_threads(2)
    world = make_world(SynthConfig.gpu(n_train_ids=3, n_val_ids=0, n_test_ids=2, n_categories=8, cameras_per_id=(3, 3),
                                       images_per_camera=(1, 1), n_junk=0, n_distractors=1, pedes_images_per_id=2), seed=0)
    write_cuhk_pedes(world, tmp_path)
    ds = read_dataset('cuhk_pedes', tmp_path)
    paper = SsanConfig.paper(pretrained=False, bs=2, min_freq=1)
    assert paper.arch == 'resnet50' and tuple(paper.size) == (384, 128) and (paper.dim, paper.inner_dim, paper.rel_dim, paper.emb_dim) == (1024, 512, 512, 512)
    assert paper.train.milestones == (20, 40) and paper.train.backbone_lr_mult == 0.1 and paper.margin_warmup_epochs == 5
    cfg = paper.with_train(epochs=1, milestones=(), device='cpu')
    learn = ssan_learner(ssan_dataloaders(ds.train, cfg, device='cpu'), cfg)
    assert learn.model.backbone.out_channels == 2048 and learn.model.text.hidden == 2048
    learn.create_opt()
    before = learn.model.proj_l.weight.detach().clone()
    img, cap, weak, pids = learn.dls.train.one_batch()
    assert img.shape == (2, 3, 384, 128)
    learn.model.train()
    out = learn.model(img, cap, weak)
    assert out['image']['l'].shape == (2, 6, 1024) and out['text']['n'].shape == (2, 6, 512)
    loss = learn.loss_func(out, pids)
    loss.backward(); learn.opt.step(); learn.opt.zero_grad()
    assert torch.isfinite(loss) and {'id_g', 'rank_l', 'alpha2_n'} <= set(learn.loss_func.components)
    assert not torch.equal(before, learn.model.proj_l.weight.detach())
    feats = ssan_test_features(learn.model, learn.vocab, ds.test, cfg.size)
    assert feats['image']['g'].shape == (len(ds.test), 1024)
    res = evaluate_ssan(feats)
    assert all(0 <= res[k] <= 1 for k in ('R1', 'R5', 'R10', 'mAP', 'mINP')) and set(res['per_feature']) == {'g', 'l', 'n'}


def test_semihard_never_uses_negatives_that_outrank_the_positive():
    torch.manual_seed(0)
    S = torch.rand(32, 32)
    neg = torch.ones(32, 32, dtype=torch.bool).fill_diagonal_(False)
    idx, found = mine_negatives(S, S.diagonal(), neg, 0.2, 'semihard')
    chosen = S[torch.arange(32), idx]
    assert bool(((chosen < S.diagonal()) & (chosen > S.diagonal() - 0.2))[found].all())
    assert bool((idx[found] != torch.arange(32)[found]).all())


def test_cr_reduces_to_ranking_and_margin_bounds():
    torch.manual_seed(1)
    I, D, Dw = torch.randn(8, 5), torch.randn(8, 5), torch.randn(8, 5)
    pids = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    a = compound_ranking_loss(I, D, Dw, pids, beta=0., mining='hardest')[0]
    b = ranking_loss(I, D, pids, mining='hardest')
    assert torch.allclose(a, b)
    a2 = adaptive_weak_margin(torch.randn(100), torch.randn(100))
    assert bool(((a2 >= 0.1 - 1e-7) & (a2 <= 0.2 + 1e-7)).all())


def test_warmup_callback_switches_margin(tmp_path):
    world = make_world(SynthConfig.tiny(), seed=0)
    write_cuhk_pedes(world, tmp_path)
    ds = read_dataset('cuhk_pedes', tmp_path)
    cfg = SsanConfig.fast(margin_warmup_epochs=1).with_train(epochs=2, device='cpu')
    set_seed(0)
    learn = ssan_learner(ssan_dataloaders(ds.train, cfg, device='cpu'), cfg)
    seen = []
    from fastai.callback.core import Callback
    class Spy(Callback):
        order = 50
        def before_epoch(self): seen.append(self.learn.loss_func.adaptive_now)
    with learn.no_bar(), learn.no_logging(): learn.fit(2, cbs=[Spy()])
    assert seen == [False, True]
    h = learn.ssan_log.history
    assert len(h) == 2 and abs(h[0]['alpha2_g'] - 0.1) < 1e-6  # fixed α₁/2 during the warm-up
    wp = word_part_accuracy(learn.model, learn.vocab, read_word_parts(tmp_path), ds.test)
    assert 0 <= wp['accuracy'] <= 1 and wp['n_words'] > 0


def test_bad_input():
    with pytest.raises(AttrReIDError, match='use_pfl=True'): SsanConfig(use_pfl=False)
    with pytest.raises(AttrReIDError, match="'code' or 'paper'"): SsanConfig(lambda_form='eq21')
    with pytest.raises(AttrReIDError, match='integer tensor'): caption_mask(torch.rand(2, 3))


def test_stripe_set_scores_hand_built():
    s = [[.9, .1, .2, .3, .1, .1], [.5] * 6, [.7, .6, .5, .4, .3, .2], [.1, .2, .9, .8, .1, .3]]
    t = stripe_set_scores(s, [(0, 1), (2,), (), (3, 4)])
    assert t.word.tolist() == [0, 1, 3]  # the unlabelled word is not scored
    assert np.allclose(t.hit, [1., 1 / 6, 0.])  # ties split: 6 tied stripes, 1 in the set
    assert np.allclose(t.auc, [5 / 8, 0.5, 3.5 / 8])  # in/out pairs won, ties ½
    assert np.allclose(t.chance, [2 / 6, 1 / 6, 2 / 6])
    assert np.isnan(stripe_set_scores([[.3, .1]], [(0, 1)]).auc[0])  # a set of every stripe has no AUC
    with pytest.raises(AttrReIDError, match='stripe indices'): stripe_set_scores([[.1, .2]], [(2,)])


def test_word_stripes_and_wam_report_on_a_tiny_world(tmp_path):
    world = make_world(SynthConfig.tiny(), seed=0)
    write_cuhk_pedes(world, tmp_path)
    ds, stripes, parts = read_dataset('cuhk_pedes', tmp_path), read_word_stripes(tmp_path), read_word_parts(tmp_path)
    assert set(stripes) == set(parts) and {r.path for r in ds.test} <= set(stripes)
    for p in list(stripes)[:10]:
        for (t, s), (t2, b) in zip(stripes[p], parts[p]):
            assert t == t2 and all(x == () for x, y in zip(s, b) if y == -1)
            assert all(0 <= k < 6 for x in s for k in x)
    cfg = SsanConfig.fast(use_prl=False, use_cr=False).with_train(device='cpu')
    set_seed(0)
    learn, m = train_and_evaluate(ds, cfg, word_stripes=stripes)
    r = learn.wam_report
    assert list(r.index) == ['trained', 'at initialisation', 'trained − init']
    assert 0 <= m['wam_hit'] <= 1 and 0 <= m['wam_auc_init'] <= 1
    # the copy at initialisation is the network before the first step
    assert not torch.equal(learn.init_model.wam.score.weight, learn.model.wam.score.weight)
    with torch.no_grad(): learn.model.wam.score.weight.zero_()  # s = 0.5 everywhere: hit = chance, AUC = 0.5
    z = wam_stripe_summary(wam_stripe_table(learn.model, learn.vocab, stripes, ds.test))
    assert abs(z['hit'] - z['chance']) < 1e-9 and abs(z['auc'] - 0.5) < 1e-9 and z['score_std'] == 0
    line = ssan_run_line(learn, '+PFL', 0, {'R1': 100 * m['R1']})
    assert line['epochs'] == 1 and not line['converged'] and abs(line['id_uniform'] - np.log(10)) < 1e-9
    assert len(learn.t2i_per_query['first_hit']) == sum(len(r.captions) for r in ds.test)


def test_table1_claims_are_the_papers_deltas():
    assert [c[5] for c in SSAN_CLAIMS] == [4.58, 1.33, 1.23, 1.62, 0.78]
    assert all(c[2] in TABLE1_ROWS and c[3] in TABLE1_ROWS and c[4] == 'R1' for c in SSAN_CLAIMS)
    assert TABLE1_ROWS['+PFL (uniform WAM)']['wam'] == 'uniform'


def test_trained_wam_beats_its_untrained_self_on_a_small_world(tmp_path):
    "The mechanism diagnostic: `synth_cpu` +PFL, 12 epochs (~20 s) on 80 identities; stripe-set hit and AUC above the same net at init."
    torch.set_num_threads(1)
    cfg = SynthConfig.tiny(n_train_ids=80, n_val_ids=0, n_test_ids=20, n_categories=60, images_per_camera=(1, 2),
                           pedes_images_per_id=3, captions_per_image=3)
    write_cuhk_pedes(make_world(cfg, seed=0), tmp_path)
    ds = read_dataset('cuhk_pedes', tmp_path)
    set_seed(0)
    learn, m = train_and_evaluate(ds, SsanConfig.synth_cpu(**TABLE1_ROWS['+PFL']).with_train(epochs=12, milestones=(9,), device='cpu'),
                                  word_stripes=read_word_stripes(tmp_path))
    r = learn.wam_report
    assert r.loc['trained', 'auc'] > r.loc['at initialisation', 'auc'] + 0.05
    assert r.loc['trained', 'hit'] > r.loc['at initialisation', 'hit'] + 0.05
    assert abs(r.loc['at initialisation', 'auc'] - 0.5) < 0.05
