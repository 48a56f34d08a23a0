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


def test_half_of_test_ids_share_their_attribute_set():
    stats = attribute_statistics(make_world(SynthConfig.cpu(), seed=0))
    assert stats['test_ids_sharing_with_any'] >= 0.5
    assert stats['unseen_test_categories'] >= 1


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
