"Behavioural checks of `attrreid_nb.verdicts`: exact values on hand-built cases, the shared checker's rules, bad input."
import gzip, importlib.util, math
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from attrreid_nb.core import AttrReIDError
from attrreid_nb.verdicts import (paired_differences, paired_effect_interval, verdict_label, is_powered,
                                  minimal_detectable_effect, loss_change, convergence, verdict_table, floor_rows,
                                  save_reproduction, load_reproduction, check_verdict_table, per_query_results,
                                  direction_table, control_effects, VERDICT_COLUMNS, VERDICTS)
from attrreid_nb.eval import rank_metrics

CHECKER = next((p for p in (Path(__file__).resolve().parents[k]/'shared'/'tools'/'check_verdicts.py' for k in (1, 2))
                if p.exists()), None)


def _checker():
    spec = importlib.util.spec_from_file_location('check_verdicts', CHECKER)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def _tidy(m, row, metric='R1'):
    m = np.asarray(m, float)
    return pd.DataFrame([dict(row=row, seed=s, query=q, metric=metric, value=v)
                         for s, r in enumerate(m) for q, v in enumerate(r)])


# ---------------------------------------------------------------- intervals

def test_per_seed_t_interval_exact():
    r = paired_effect_interval([10., 20., 30.], [11., 22., 33.])
    lo, hi = stats.t.interval(0.95, 2, loc=2., scale=1 / math.sqrt(3))
    assert (r.delta, r.seeds, r.queries, r.df) == (2., 3, 0, 2.)
    assert r.ci_low == pytest.approx(lo) and r.ci_high == pytest.approx(hi)
    assert r.se == pytest.approx(1 / math.sqrt(3))
    assert 'seed differences' in r.method


def test_two_way_interval_exact_components():
    # d = seed effect (-1, 0, 1) + query effect (-2, 2) + interaction (+-0.5, flipping): every component known
    seed, query = np.array([-1., 0., 1.])[:, None], np.array([-2., 2.])[None]
    inter = np.array([[0.5, -0.5], [-0.5, 0.5], [0., 0.]])
    d = 3 + seed + query + inter
    r = paired_effect_interval(np.zeros_like(d), d)
    m, c = d.mean(1), d.mean(0)
    ms = ((d - m[:, None] - c[None] + d.mean()) ** 2).sum() / 2
    v_seed, v_query = m.var(ddof=1) / 3, (c.var(ddof=1) - ms / 3) / 2
    df = (v_seed + v_query) ** 2 / (v_seed ** 2 / 2 + v_query ** 2 / 1)
    lo, hi = stats.t.interval(0.95, df, loc=3., scale=math.sqrt(v_seed + v_query))
    assert r.delta == pytest.approx(3.) and r.se == pytest.approx(math.sqrt(v_seed + v_query))
    assert r.df == pytest.approx(df) and (r.ci_low, r.ci_high) == (pytest.approx(lo), pytest.approx(hi))


def test_pure_interaction_equals_per_seed_interval():
    d = np.array([[2., 0.], [1., 3.], [4., 2.]])  # no query main effect: only the seed means' spread counts
    r = paired_effect_interval(np.zeros((3, 2)), d)
    s = paired_effect_interval(np.zeros(3), d.mean(1))
    assert (r.ci_low, r.ci_high) == (pytest.approx(s.ci_low), pytest.approx(s.ci_high))


def test_order_of_rows_flips_the_sign():
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 50)), rng.random((3, 50))
    ab, ba = paired_effect_interval(a, b), paired_effect_interval(b, a)
    assert ab.delta == pytest.approx(-ba.delta) and ab.ci_low == pytest.approx(-ba.ci_high)


def test_tidy_frames_match_arrays_whatever_the_row_order():
    rng = np.random.default_rng(1)
    a, b = rng.random((3, 20)), rng.random((3, 20))
    ta, tb = _tidy(a, 'A').sample(frac=1, random_state=0), _tidy(b, 'B').sample(frac=1, random_state=1)
    assert paired_effect_interval(ta, tb) == paired_effect_interval(a, b)


def test_single_seed_bootstrap_is_deterministic_and_says_so():
    rng = np.random.default_rng(2)
    a, b = rng.random((1, 200)), rng.random((1, 200)) + 0.1
    r0, r0b, r1 = (paired_effect_interval(a, b, seed=s) for s in (0, 0, 1))
    assert r0 == r0b and r0.ci_low != r1.ci_low
    assert r0.seeds == 1 and r0.df == math.inf and 'seed noise not estimated' in r0.method
    assert r0.ci_low <= r0.delta <= r0.ci_high


def test_constant_difference_gives_a_point_interval():
    r = paired_effect_interval(np.zeros((4, 3)), np.full((4, 3), 2.))
    assert (r.delta, r.ci_low, r.ci_high, r.se) == (2., 2., 2., 0.)


def test_queries_without_a_match_are_dropped():
    a = np.array([[1., np.nan, 0.], [0., np.nan, 1.]])
    b = np.array([[1., np.nan, 1.], [1., np.nan, 1.]])
    assert paired_differences(a, b).shape == (2, 2)


@pytest.mark.parametrize('a, b, msg', [
    ([[1., 2.], [3., 4.]], [[1., 2., 3.], [3., 4., 5.]], 'same queries'),  # unpaired shapes
    ([[1., 2.], [3., 4.]], [[1., 2.]], 'same seeds'),
    ([1., 2.], [[1., 2.], [3., 4.]], 'both per-seed values or both per-query'),
    ([[1., np.nan]], [[1., 2.]], 'NaN only for a query'),
    ([1.], [2.], 'at least 2 seeds'),
    ([], [], 'non-empty'),
    ('abc', [1., 2.], 'expected numbers'),
])
def test_unpaired_or_bad_input_raises(a, b, msg):
    with pytest.raises(AttrReIDError, match=msg): paired_effect_interval(a, b)


def test_mismatched_seeds_between_tidy_rows():
    a, b = _tidy(np.ones((3, 4)), 'A'), _tidy(np.ones((3, 4)), 'B')
    with pytest.raises(AttrReIDError, match='same seeds'): paired_effect_interval(a, b.assign(seed=b.seed + 10))
    with pytest.raises(AttrReIDError, match='queries in one row only'): paired_effect_interval(a, b.assign(query=b['query'] + 1))
    with pytest.raises(AttrReIDError, match=r'one value per \(seed, query\)'): paired_effect_interval(pd.concat([a, a]), b)
    with pytest.raises(AttrReIDError, match='columns seed, value'): paired_effect_interval(a.drop(columns='seed'), b)
    with pytest.raises(AttrReIDError, match='confidence'): paired_effect_interval([1., 2.], [2., 3.], confidence=1.5)


# ---------------------------------------------------------------- verdicts

@pytest.mark.parametrize('lo, hi, p, verdict, powered', [
    (-1., 4., 3., 'inconclusive', False), (-1., 1., 3., 'absent', True), (-4., -1., 3., 'reversed', False),
    (2., 5., 3., 'reproduces', False), (0.5, 1.5, 3., 'weaker', True), (4., 6., 3., 'reproduces', True),
    (3.5, 4., 3., 'reproduces', True), (0., 2., 3., 'absent', True), (0., 3., 3., 'inconclusive', False), (3., 3., 3., 'reproduces', True),
    (-5., -2., -3., 'reproduces', False), (-2., -1., -3., 'weaker', True), (1., 2., -3., 'reversed', True),
])
def test_verdict_and_power_on_hand_built_cases(lo, hi, p, verdict, powered):
    assert verdict_label(lo, hi, p) == verdict and is_powered(lo, hi, p) == powered


@pytest.mark.skipif(CHECKER is None, reason='no ../shared/tools/check_verdicts.py next to this checkout')
def test_rules_match_the_shared_checker_on_a_grid():
    chk = _checker()
    assert tuple(chk.COLS) == VERDICT_COLUMNS
    grid = [(lo, hi, p) for p in (-2.5, -1., 0.5, 2., 3.) for lo in np.arange(-6, 6.25, 0.25)
            for hi in np.arange(-6, 6.25, 0.25) if lo <= hi]
    for lo, hi, p in grid:
        assert verdict_label(lo, hi, p) == chk.expected(p, lo, hi), (lo, hi, p)
        assert is_powered(lo, hi, p) == ((hi - lo) / 2 < abs(p) / 2)
    assert {verdict_label(lo, hi, p) for lo, hi, p in grid} == set(VERDICTS)


@pytest.mark.parametrize('args, msg', [((0., 1., 0.), 'non-zero effect'), ((2., 1., 1.), 'ci_low <= ci_high'),
                                       ((np.nan, 1., 1.), 'finite'), ((0., np.inf, 1.), 'finite')])
def test_verdict_bad_input(args, msg):
    with pytest.raises(AttrReIDError, match=msg): verdict_label(*args)
    with pytest.raises(AttrReIDError, match=msg): is_powered(*args)


def test_minimal_detectable_effect_formula():
    assert minimal_detectable_effect(1.) == pytest.approx(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))
    assert minimal_detectable_effect(2., power=0.5) == pytest.approx(2 * 1.959964, abs=1e-5)
    assert minimal_detectable_effect(1., df=2) == pytest.approx(stats.t.ppf(0.975, 2) + stats.t.ppf(0.8, 2))
    assert minimal_detectable_effect(0.) == 0.
    with pytest.raises(AttrReIDError, match='standard error'): minimal_detectable_effect(-1.)
    with pytest.raises(AttrReIDError, match='confidence/power'): minimal_detectable_effect(1., power=1.)


# ---------------------------------------------------------------- convergence

def test_convergence_plateau_and_falling():
    e = np.arange(1, 21)
    assert convergence(2 + 3 * np.exp(-e / 2)) and not convergence(5 - 0.15 * e)
    # 10 epochs, window 0.2 -> k = 2: epoch 10 against epoch 8
    l = [10, 9, 8, 7, 6, 5, 4, 3.0, 2.95, 2.9]
    assert loss_change(l) == pytest.approx(0.1 / 3.0) and convergence(l)
    assert not convergence(l, tol=0.03)
    assert loss_change([4, 3, 2, 1, 1]) == 0. and convergence([4, 3, 2, 1, 1])


def test_convergence_bad_input():
    with pytest.raises(AttrReIDError, match='at least 5 per-epoch values'): convergence([3., 2., 1.])
    with pytest.raises(AttrReIDError, match='at least 10 per-epoch values'): convergence(range(9), window=0.1)
    with pytest.raises(AttrReIDError, match='fraction'): convergence(range(10), window=0.)
    assert not convergence([5., 4., 3., 2., np.nan]) and not convergence([5., 4., 3., 2., np.inf])


# ---------------------------------------------------------------- tables and files

def _example():
    rng = np.random.default_rng(0)
    base = (rng.random((3, 200)) < 0.5) * 100.
    better = np.where(rng.random((3, 200)) < 0.3, 100., base)  # ~ +15 points
    same = base.copy(); same[:, :10] = 100 - same[:, :10]
    q = pd.concat([_tidy(base, 'A'), _tidy(better, 'B'), _tidy(same, 'C')], ignore_index=True)
    runs = pd.DataFrame([dict(row=r, seed=s, converged=True, epochs=10) for r in 'ABC' for s in range(3)])
    claims = [('B helps', 'T1', 'A', 'B', 'R1', 10.), dict(claim='C helps', table='T1', row_a='A', row_b='C', metric='R1', paper_delta=5.)]
    return q, runs, claims


def test_verdict_table_columns_values_and_convergence():
    q, runs, claims = _example()
    vt = verdict_table(q, claims, runs)
    assert list(vt.columns[:12]) == list(VERDICT_COLUMNS)
    assert vt.claim.tolist() == ['B helps', 'C helps'] and vt.seeds.tolist() == [3, 3] and vt.queries.tolist() == [200, 200]
    for r in vt.itertuples():
        e = paired_effect_interval(q[(q.row == r.row_a)][['seed', 'query', 'value']], q[(q.row == r.row_b)][['seed', 'query', 'value']])
        assert (r.delta, r.ci_low, r.ci_high) == (e.delta, e.ci_low, e.ci_high)
        assert r.verdict == verdict_label(e.ci_low, e.ci_high, r.paper_delta)
        assert r.mde == pytest.approx(minimal_detectable_effect(e.se, e.df))
    assert vt.converged.tolist() == [True, True]
    bad = runs.copy(); bad.loc[(bad.row == 'C') & (bad.seed == 1), 'converged'] = False
    assert verdict_table(q, claims, bad).converged.tolist() == [True, False]
    assert verdict_table(q, claims, runs[runs.row != 'B']).converged.tolist() == [False, True]
    check_verdict_table(vt)


def test_verdict_table_bad_input():
    q, runs, claims = _example()
    with pytest.raises(AttrReIDError, match="row 'Z'"): verdict_table(q, [('x', 'T', 'A', 'Z', 'R1', 1.)])
    with pytest.raises(AttrReIDError, match='non-zero effect'): verdict_table(q, [('x', 'T', 'A', 'B', 'R1', 0.)])
    # a seed missing from one row: the claim is paired on the seeds both rows have, and says how many
    n = q.seed.nunique()
    assert int(verdict_table(q[~((q.row == 'B') & (q.seed == 0))], [('x', 'T', 'A', 'B', 'R1', 1.)]).seeds[0]) == n - 1
    with pytest.raises(AttrReIDError, match="claim 'x'.*in common"):
        verdict_table(pd.concat([q[q.row == 'A'], q[q.row == 'B'].assign(seed=q.seed + 100)]), [('x', 'T', 'A', 'B', 'R1', 1.)])
    with pytest.raises(AttrReIDError, match='columns row, seed, metric, value'): verdict_table(q.drop(columns='metric'), claims)
    with pytest.raises(AttrReIDError, match='row, seed, converged'): verdict_table(q, claims, runs.drop(columns='converged'))
    with pytest.raises(AttrReIDError, match='at least one claim'): verdict_table(q, [])


def test_per_query_results_reproduce_the_summary():
    rng = np.random.default_rng(3)
    res = rank_metrics(rng.random((8, 20)), np.arange(8) % 5, np.arange(20) % 6, remove=None)
    pq = per_query_results(res, 'A', 0, ks=(1, 5), metrics=('mAP', 'mINP'))
    assert list(pq.columns) == ['row', 'seed', 'query', 'metric', 'value']
    m = pq.groupby('metric').value.mean()
    for k in ('R1', 'R5', 'mAP', 'mINP'): assert m[k] == pytest.approx(100 * res[k])


def test_floor_rows(tmp_path):
    f = tmp_path/'floors.csv'
    pd.DataFrame(dict(task=['t', 't', 'u'], method=['chance', 'oracle', 'chance'], metric='R1', value=[1., 99., 2.])).to_csv(f, index=False)
    fr = floor_rows('t', path=f)
    assert fr.claim.tolist() == ['chance', 'oracle'] and fr.mean_b.tolist() == [1., 99.] and set(fr.table) == {'floors'}
    with pytest.raises(AttrReIDError, match='nope.csv: no floors file'): floor_rows('t', path=tmp_path/'nope.csv')
    with pytest.raises(AttrReIDError, match='one of the tasks'): floor_rows('v', path=f)
    with pytest.raises(AttrReIDError, match='metrics the floors file has'): floor_rows('t', ['mAP'], path=f)


def test_save_and_load_reproduction(tmp_path):
    q, runs, claims = _example()
    vt = verdict_table(q, claims, runs)
    paths = save_reproduction('demo', runs, q, vt, root=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo_queries.csv.gz', 'demo_runs.csv', 'demo_verdicts.csv']
    with gzip.open(paths['queries'], 'rt') as fh: assert fh.readline().strip() == 'row,seed,query,metric,value'
    r, qq, v = load_reproduction('demo', tmp_path)
    assert len(qq) == len(q) and v.verdict.tolist() == vt.verdict.tolist()
    assert v.ci_low.tolist() == vt.ci_low.tolist()  # full precision: the labels follow from the saved numbers
    again = verdict_table(qq, claims, r)
    assert again.ci_high.tolist() == pytest.approx(vt.ci_high.tolist())
    if CHECKER is not None: assert _checker().check(str(paths['verdicts']))[0] == []


@pytest.mark.parametrize('change, msg', [
    (lambda r, q, v: (r.drop(columns='converged'), q, v), r"missing \['converged'\]"),
    (lambda r, q, v: (r, q.drop(columns='value'), v), r"missing \['value'\]"),
    (lambda r, q, v: (pd.concat([r, r.head(1)]), q, v), r'one line per \(row, seed\)'),
    (lambda r, q, v: (r, q, v.assign(verdict='weaker')), 'the verdict its interval gives'),
    (lambda r, q, v: (r, q, v.assign(powered=~v.powered.astype(bool))), 'powered'),
    (lambda r, q, v: (r, q, v.assign(delta=v.ci_high + 1)), 'delta inside'),
    (lambda r, q, v: (r[r.row != 'C'], q, v), 'only of runs listed'),
])
def test_save_reproduction_refuses_inconsistent_tables(tmp_path, change, msg):
    q, runs, claims = _example()
    r, qq, v = change(runs, q, verdict_table(q, claims, runs))
    with pytest.raises(AttrReIDError, match=msg): save_reproduction('demo', r, qq, v, root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_direction_table_kept_for_old_tables():
    paper = pd.DataFrame({'R1': [90., 91.5]}, index=['A', 'B'])
    res = pd.DataFrame(dict(row=['A', 'A', 'B', 'B'], seed=[0, 1, 0, 1], metric='R1', value=[10., 12., 9., 9.]))
    t = direction_table(res, paper, [('A', 'B')], ['R1'])
    assert t.to_dict('records') == [dict(comparison='A → B', metric='R1', paper_delta=1.5, ours_delta=-2.0, reproduces='no')]
    from attrreid_nb.cerberus import direction_table as old
    assert old is direction_table


def test_control_effects_pair_on_common_seeds():
    q, runs, claims = _example()
    extra = pd.concat([q, q[(q.row == 'B') & (q.seed == 0)].assign(seed=99)])  # B has a seed A lacks
    a, b = control_effects(extra, [('c', 'A', 'B')]), control_effects(q, [('c', 'A', 'B')])
    assert a.delta[0] == pytest.approx(b.delta[0]) and int(a.seeds[0]) == int(b.seeds[0])
