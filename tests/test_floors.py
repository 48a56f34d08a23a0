"Floors and ceilings: chance by tie-breaking, label agreement, caption facts, and every task on a tiny world."
import numpy as np
import pandas as pd
import pytest
import torch
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.readers import read_dataset
from attrreid_nb.data.synth import SynthConfig, make_world, synthpeds_dataset
from attrreid_nb.eval import rank_metrics
from attrreid_nb.floors import (FLOOR_KINDS, FLOOR_TASKS, attribute_agreement, caption_facts, caption_oracle_scores,
                                fact_holds, floors_table, load_pixels, mean_over_tie_breaks, measure_floors,
                                predicted_attribute_lookup_scores, save_floors)

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "The floors table of the tiny world, and the folder its layouts live in."
    root = tmp_path_factory.mktemp('floors')
    return measure_floors(SynthConfig.tiny(), seed=0, root=root, draws=2, trials=2, verbose=False), root


def test_chance_is_a_random_ranking():
    one = lambda s: rank_metrics(s, [1], [1] + [2] * 4, largest=True, remove=None)
    res = mean_over_tie_breaks(one, np.zeros((1, 5)), draws=3000, keys=('R1', 'mAP'))
    assert abs(res['R1'] - 0.2) < 0.02 and abs(res['mAP'] - np.mean(1 / np.arange(1, 6))) < 0.02
    # the jitter only reorders ties: a strictly better score stays first
    assert mean_over_tie_breaks(one, np.array([[2., 1., 1., 0., 0.]]), draws=20)['R1'] == 1.0


def test_attribute_agreement_by_hand():
    got = attribute_agreement([[1, 0, 2], [0, 0, 0]], [[1, 0, 2], [1, 1, 1], None])
    assert got.tolist() == [[3, 1, -1], [1, 0, -1]]
    with pytest.raises(AttrReIDError, match='same length'): attribute_agreement([[1, 0]], [[1, 0, 1]])


def test_predicted_lookup_is_the_log_likelihood_of_the_query():
    lp = [np.log(np.array([[0.9, 0.1], [0.2, 0.8]])), np.log(np.array([[0.5, 0.5], [0.3, 0.7]]))]
    got = predicted_attribute_lookup_scores(lp, [[0, 1], [1, 0]])
    want = np.log([[0.9 * 0.5, 0.2 * 0.7], [0.1 * 0.5, 0.8 * 0.3]])
    assert np.allclose(got, want)


def test_caption_facts_hold_for_the_pictured_identity():
    world = make_world(SynthConfig.tiny(), seed=3)
    caps = [(world.identities[s.pid], c) for s in world.shots[:40] for c in world.captions(s)]
    facts = [(i, caption_facts(c)) for i, c in caps]
    assert all(len(f) >= 2 for _, f in facts)
    held = np.mean([fact_holds(i, f) for i, fs in facts for f in fs])
    assert held >= (0.9 if hasattr(caps[0][1], 'facts') else 1.0), held
    ids = [world.identities[p] for p in world.ids('test')]
    scores = caption_oracle_scores([f for _, f in facts[:5]], ids)
    assert scores.shape == (5, len(ids)) and (scores >= 0).all()


def test_load_pixels_shapes(tiny):
    _, root = tiny
    ds = read_dataset('market1501', root)
    x, g = load_pixels(ds.query[:3]), load_pixels([r.path for r in ds.query[:3]], grey=True)
    assert x.shape == (3, 16 * 8 * 3) and g.shape == (3, 16 * 8) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() <= 1


def test_every_task_has_chance_floor_and_oracle(tiny):
    df, _ = tiny
    assert list(df.columns) == ['task', 'method', 'metric', 'value']
    assert list(dict.fromkeys(df.task)) == list(FLOOR_TASKS)
    assert set(df.method) <= set(FLOOR_KINDS)
    for task, sub in df.groupby('task'):
        assert {FLOOR_KINDS[m] for m in sub.method} == {'chance', 'floor', 'oracle'}, task
    assert df.value.between(0, 100).all() and df.value.notna().all()
    v = df.set_index(['task', 'method', 'metric']).value
    assert v['attribute_search', 'ground_truth', 'R1'] == 100.0
    assert v['attribute_recognition', 'majority', 'mA'] == pytest.approx(50.0)
    for task, oracle, metric in (('image_to_image', 'attribute_oracle', 'mAP'), ('text_to_image', 'caption_oracle', 'mAP'),
                                 ('infrared_to_visible', 'sysu_attribute_lookup', 'mAP'), ('attribute_search', 'ground_truth', 'mAP')):
        assert v[task, oracle, metric] > v[task, 'chance', metric], (task, oracle)
    table = floors_table(df, ('R1', 'mAP', 'mA'))
    assert list(table.columns) == ['R1', 'mAP', 'mA'] and len(table) == df.groupby(['task', 'method']).ngroups


def test_same_world_same_numbers(tiny):
    df, root = tiny
    again = measure_floors(SynthConfig.tiny(), seed=0, root=root, draws=2, trials=2, verbose=False)
    pd.testing.assert_frame_equal(df, again)


def test_save_floors_is_atomic_and_checked(tiny, tmp_path):
    df, _ = tiny
    out = save_floors(df, tmp_path/'floors.csv')
    back = pd.read_csv(out)
    assert list(back.columns) == list(df.columns) and np.allclose(back.value, df.value, atol=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ['floors.csv']  # no temporary file left
    with pytest.raises(AttrReIDError, match='columns'): save_floors(df[['task', 'value']], tmp_path/'x.csv')
    with pytest.raises(AttrReIDError, match='existing folder'): save_floors(df, tmp_path/'missing'/'x.csv')
