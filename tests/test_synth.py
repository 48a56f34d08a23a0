"End-to-end checks of SynthPeds' writers: determinism, the on-disk layout contract, and refusal to overwrite real data."
import hashlib, json, pickle, re
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.attributes import MARKET1501, PA100K, PETA, SYSU_PAENET
from attrreid_nb.data.synth import (SynthConfig, make_world, write_all, write_market1501, attribute_statistics,
                                    PETA_ATTRIBUTE_NAMES, PART_NAMES)


def _hashes(folder):
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def tiny_world():
    return make_world(SynthConfig.tiny(), seed=11)


@pytest.fixture(scope='module')
def written(tiny_world, tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_a')
    return root, write_all(tiny_world, root)


def test_same_seed_gives_byte_identical_files(written, tmp_path):
    root, _ = written
    write_all(make_world(SynthConfig.tiny(), seed=11), tmp_path)
    a, b = _hashes(root), _hashes(tmp_path)
    assert len(a) > 100 and a == b


def test_v2_category_structure_is_market_scale():
    stats = attribute_statistics(make_world(SynthConfig.cpu(), seed=0))
    assert stats['test_categories'] >= 400 and stats['unseen_test_categories'] >= 150
    assert 1 - stats['test_ids_sharing_within_test'] >= 0.6


def test_another_world_seed_keeps_the_structure():
    "No property of the benchmark may hang on world seed 0."
    stats = attribute_statistics(make_world(SynthConfig.cpu(), seed=7))
    assert stats['test_categories'] >= 400 and stats['unseen_test_categories'] >= 150


# Hashes of every layout of a tiny v1 world (seed 3), recorded with the generator as it was before v2 existed:
# v1 must stay generable byte for byte, so old results can be re-created.
V1_TINY_HASHES = {
    "market1501": "4359412bfa7b96ee1fba463ce167eb5d1020a0b7401df8ab0a7c4a69bb02323d",
    "sysu_mm01": "0db18a9a00740b94474bf1a3dbb8e7ff5fae81b51fd8de8ac364c0c40a3207db",
    "regdb": "d95a64681e9194b8559d94b39967aa566cc459426f8aa35656294917a41a145f",
    "cuhk_pedes": "d62784a9d9ecc9a4c02366d92ee395c0b6b4ab594596cf226658290f5a5df535",
    "peta": "55875848c87d61bf4e962efd1d672155236f2b27b0699051ca0d2572e5379562",
    "pa100k": "13c41fc306f7c831d2935487ea6143cc7ff622561207a6c393d74b85d0cf16f8"
}


def _layout_hash(d):
    h = hashlib.sha256()
    for f in sorted(Path(d).rglob('*')):
        if f.is_file() and f.name != 'SYNTHPEDS.json': h.update(f.relative_to(d).as_posix().encode()); h.update(f.read_bytes())
    return h.hexdigest()


def test_v1_is_byte_identical_to_the_frozen_generator(tmp_path):
    cfg = SynthConfig.v1(height=48, width=24, n_train_ids=10, n_val_ids=2, n_test_ids=8, n_categories=8, cameras_per_id=(3, 3),
                         images_per_camera=(1, 1), n_junk=2, n_distractors=2, regdb_images=2, attribute_images_per_id=2,
                         pedes_images_per_id=2)
    paths = write_all(make_world(cfg, seed=3), tmp_path)
    assert {k: _layout_hash(d) for k, d in paths.items()} == V1_TINY_HASHES


def test_market_layout(tiny_world, written):
    root, paths = written
    d = paths['market1501']
    assert d == root / 'Market-1501-v15.09.15'
    pat = re.compile(r'^(-1|\d{4})_c([1-6])s\d_(\d{6})_(\d{2})\.jpg$')
    pids = {}
    for folder in ('bounding_box_train', 'bounding_box_test', 'query'):
        names = [p.name for p in (d / folder).iterdir()]
        assert names and all(pat.match(n) for n in names), folder
        pids[folder] = {int(pat.match(n).group(1)) for n in names}
    assert -1 in pids['bounding_box_test'] and 0 in pids['bounding_box_test']
    assert -1 not in pids['query'] | pids['bounding_box_train'] and 0 not in pids['query'] | pids['bounding_box_train']
    assert pids['bounding_box_train'].isdisjoint(pids['bounding_box_test'] - {-1, 0})
    assert pids['query'] <= pids['bounding_box_test']  # every query identity has gallery images
    m = scipy.io.loadmat(d / 'market_attribute.mat')['market_attribute'][0, 0]
    train, test = m['train'][0, 0], m['test'][0, 0]
    assert set(train.dtype.names) == set(MARKET1501.names) | {'image_index'}
    ids = [str(x[0]) for x in train['image_index'][0]]
    assert ids == sorted(ids) and {int(i) for i in ids} == pids['bounding_box_train']
    codes = np.stack([train[n][0] for n in MARKET1501.names], 1).astype(int)
    assert codes.min() >= 1 and codes.shape == (len(ids), 27)
    MARKET1501.from_mat_codes(codes)  # validates every code
    assert {int(x[0]) for x in test['image_index'][0]} == set(tiny_world.ids('test'))


def test_sysu_and_regdb_layouts(tiny_world, written):
    _, paths = written
    d = paths['sysu_mm01']
    for cam in range(1, 7): assert (d / f'cam{cam}').is_dir()
    ids = {s: [int(x) for x in (d / 'exp' / f'{s}_id.txt').read_text().strip().split(',')] for s in ('train', 'val', 'test')}
    assert ids['test'] == tiny_world.ids('test') and not set(ids['train']) & set(ids['test'])
    for pid in ids['test']:  # every person is seen in both modalities
        assert any((d / f'cam{c}' / f'{pid:04d}').is_dir() for c in (3, 6))
        assert any((d / f'cam{c}' / f'{pid:04d}').is_dir() for c in (1, 2, 4, 5))
    att = json.loads((d / 'attributes.json').read_text())
    assert att['attribute_names'] == list(SYSU_PAENET.names) and all(len(v) == 8 for v in att['labels'].values())
    r = paths['regdb']
    for t in range(1, 11):
        for split in ('train', 'test'):
            lines = (r / 'idx' / f'{split}_thermal_{t}.txt').read_text().splitlines()
            assert lines and all((r / line.split()[0]).is_file() and line.startswith('Thermal/') for line in lines)
    assert json.loads((r / 'attributes.json').read_text())['attribute_names'] == list(SYSU_PAENET.names)


def test_pedes_peta_pa100k_layouts(written):
    _, paths = written
    d = paths['cuhk_pedes']
    recs = json.loads((d / 'reid_raw.json').read_text())
    parts = json.loads((d / 'synth_word_parts.json').read_text())
    assert {r['split'] for r in recs} == {'train', 'val', 'test'}
    for r in recs:
        assert set(r) == {'split', 'captions', 'file_path', 'processed_tokens', 'id'} and (d / 'imgs' / r['file_path']).is_file()
        assert len(r['captions']) == 2 and [len(t) for t in r['processed_tokens']] == [len(p) for p in parts[r['file_path']]]
        assert all(-1 <= p < len(PART_NAMES) for ps in parts[r['file_path']] for p in ps)
    stripes = json.loads((d / 'synth_word_stripes.json').read_text())
    for r in recs:  # v2: a stripe set per token, non-empty exactly for words with a band
        for ps, ss in zip(parts[r['file_path']], stripes[r['file_path']]):
            assert len(ps) == len(ss) and all((p >= 0) == bool(st) and all(0 <= k < 6 for k in st) for p, st in zip(ps, ss))
    peta = pickle.loads((paths['peta'] / 'dataset_all.pkl').read_bytes())
    assert peta['label'].shape[1] == 105 and peta['attr_name'] == list(PETA_ATTRIBUTE_NAMES)
    assert [peta['attr_name'][i] for i in peta['label_idx']['eval']] == list(PETA.names)
    assert all((paths['peta'] / 'images' / n).is_file() for n in peta['image_name'])
    ann = scipy.io.loadmat(paths['pa100k'] / 'annotation.mat')
    assert [str(x[0][0]) for x in ann['attributes']] == list(PA100K.names)
    for s in ('train', 'val', 'test'):
        assert ann[f'{s}_label'].shape == (len(ann[f'{s}_images_name']), 26) and ann[f'{s}_label'].dtype == np.uint8


def test_refuses_to_overwrite_a_real_dataset(tiny_world, tmp_path):
    real = tmp_path / 'Market-1501-v15.09.15'
    (real / 'query').mkdir(parents=True); (real / 'query' / '0001_c1s1_000151_01.jpg').write_bytes(b'real')
    with pytest.raises(AttrReIDError, match='not written by SynthPeds'):
        write_market1501(tiny_world, tmp_path)
    assert (real / 'query' / '0001_c1s1_000151_01.jpg').read_bytes() == b'real'


def test_image_labels_follow_visibility(written):
    "PETA and PA100K label a carried thing or hat only in images where it is visible, as the sidecar records."
    _, paths = written
    peta = pickle.loads((paths['peta'] / 'dataset_all.pkl').read_bytes())
    vis = json.loads((paths['peta'] / 'synth_visibility.json').read_text())
    col = {n: PETA_ATTRIBUTE_NAMES.index(n) for n in ('carryingBackpack', 'carryingMessengerBag', 'accessoryHat')}
    item = dict(carryingBackpack='backpack', carryingMessengerBag='bag', accessoryHat='hat')
    assert len(vis) == len(peta['image_name'])
    for name, row in zip(peta['image_name'], peta['label']):
        for n, c in col.items():
            if row[c]: assert item[n] in vis[f'images/{name}']
    mvis = json.loads((paths['market1501'] / 'synth_visibility.json').read_text())
    assert len(mvis) == sum(1 for f in paths['market1501'].rglob('*.jpg') if not f.name.startswith(('-1', '0000')))


def test_sysu_has_the_configured_infrared_images_per_identity(tiny_world, written):
    _, paths = written
    lo = tiny_world.config.ir_images_per_id[0]
    for pid in tiny_world.identities:
        n = sum(len(list((paths['sysu_mm01'] / f'cam{c}' / f'{pid:04d}').glob('*.jpg'))) for c in (3, 6)
                if (paths['sysu_mm01'] / f'cam{c}' / f'{pid:04d}').is_dir())
        assert n >= lo, pid
