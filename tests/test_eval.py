"Checks of `attrreid_nb.eval` that do not belong in the notebook: AGW's SYSU gallery draw on a folder tree, numpy inputs, devices."
import os, random
import numpy as np
import pytest
import torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.eval import (sysu_gallery_trial, rank_metrics, eval_market, k_reciprocal_rerank_features,
                              k_reciprocal_rerank, pairwise_distance)


def _agw_process_gallery_sysu(data_path, ids, mode='all', trial=0):
    "Transcription of AGW's `data_manager.process_gallery_sysu` (single-shot)."
    random.seed(trial)
    rgb_cameras = ['cam1', 'cam2', 'cam4', 'cam5'] if mode == 'all' else ['cam1', 'cam2']
    files_rgb = []
    for id in sorted(ids):
        for cam in rgb_cameras:
            img_dir = os.path.join(data_path, cam, id)
            if os.path.isdir(img_dir):
                new_files = sorted([img_dir + '/' + i for i in os.listdir(img_dir)])
                files_rgb.append(random.choice(new_files))
    return files_rgb


@pytest.mark.parametrize('mode', ['all', 'indoor'])
def test_sysu_draw_matches_agw(tmp_path, mode):
    rng = np.random.default_rng(0)
    ids = ['0001', '0007', '0012']
    paths, pids, cams = [], [], []
    for cam in (1, 2, 4, 5):
        for pid in ids:
            if cam == 4 and pid == '0007': continue  # a missing (identity, camera) pair, as in the real data
            d = tmp_path / f'cam{cam}' / pid
            d.mkdir(parents=True)
            for k in range(int(rng.integers(2, 6))):
                (d / f'{k:04d}.jpg').touch()
                paths.append(str(d) + '/' + f'{k:04d}.jpg'); pids.append(int(pid)); cams.append(cam)
    order = rng.permutation(len(paths))  # the pool order must not matter
    paths, pids, cams = [paths[i] for i in order], [pids[i] for i in order], [cams[i] for i in order]
    for trial in range(10):
        ours = [paths[i] for i in sysu_gallery_trial(pids, cams, trial=trial, mode=mode, paths=paths)]
        assert ours == _agw_process_gallery_sysu(str(tmp_path), ids, mode, trial)


def test_numpy_inputs_match_tensors():
    g = np.random.default_rng(1)
    d = g.random((20, 30)); qp, gp = g.integers(0, 5, 20), g.integers(0, 5, 30)
    qc, gc = g.integers(0, 3, 20), g.integers(0, 3, 30)
    a = eval_market(d, qp, gp, qc, gc)
    b = eval_market(torch.tensor(d), torch.tensor(qp), torch.tensor(gp), torch.tensor(qc), torch.tensor(gc))
    assert a['mAP'] == pytest.approx(b['mAP']) and a['R1'] == b['R1']


def test_bad_inputs_raise_package_error():
    with pytest.raises(AttrReIDError, match='q_camids'):
        rank_metrics(np.zeros((2, 3)), [1, 2], [1, 2, 3], [0], [0, 1, 2])
    with pytest.raises(AttrReIDError, match='no NaN'):
        k_reciprocal_rerank_features(torch.full((2, 4), float('nan')), torch.zeros(3, 4))
    with pytest.raises(AttrReIDError, match='metric'):
        pairwise_distance(torch.zeros(2, 4), torch.zeros(3, 4), metric='manhattan')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_gpu_matches_cpu():
    g = torch.Generator().manual_seed(0)
    d = torch.rand(64, 200, generator=g)
    qp, gp = torch.randint(0, 10, (64,), generator=g), torch.randint(0, 10, (200,), generator=g)
    qc, gc = torch.randint(0, 3, (64,), generator=g), torch.randint(0, 3, (200,), generator=g)
    cpu = eval_market(d, qp, gp, qc, gc)
    gpu = eval_market(d.cuda(), qp.cuda(), gp.cuda(), qc.cuda(), gc.cuda())
    assert cpu['mAP'] == pytest.approx(gpu['mAP']) and cpu['R1'] == gpu['R1']
    f = torch.randn(60, 16, generator=g)
    assert torch.allclose(k_reciprocal_rerank_features(f[:10], f[10:]),
                          k_reciprocal_rerank_features(f[:10].cuda(), f[10:].cuda()).cpu(), atol=1e-4)


def test_rerank_tied_distances_follow_index_order():
    "Issue 22: with duplicate features, topk may pick any tied item; neighbours must follow (distance, index) order."
    x = torch.tensor([[0.], [0.], [0.], [1.]])
    expected = torch.tensor([[0.0, 0.7, 1.0]])
    assert torch.allclose(k_reciprocal_rerank_features(x[:1], x[1:], k1=1, k2=1, lambda_value=0.3), expected, atol=1e-6)
    d = torch.cdist(x, x)
    assert torch.allclose(k_reciprocal_rerank(d[:1, 1:], d[:1, :1], d[1:, 1:], k1=1, k2=1, lambda_value=0.3), expected, atol=1e-6)
    # the same with the duplicates spread over chunks, and many more of them than fit in a neighbour list
    x = torch.cat([torch.zeros(1, 2), torch.zeros(9, 2), torch.ones(3, 2)])
    one = k_reciprocal_rerank_features(x[:1], x[1:], k1=2, k2=1)
    assert torch.allclose(k_reciprocal_rerank_features(x[:1], x[1:], k1=2, k2=1, chunk_size=3), one)
    # the first two duplicates (by index) are the query's reciprocal neighbours, the other seven are not
    assert torch.allclose(one, torch.tensor([[0.] * 2 + [0.7] * 7 + [1.] * 3]), atol=1e-6)
