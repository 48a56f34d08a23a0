"Readers end to end on small broken fixtures on disk: every bad input ends in `AttrReIDError` naming the file."
import json, pickle, sys, types
from pathlib import Path
import numpy as np
import pytest
import scipy.io
from PIL import Image
from attrreid_nb.core import AttrReIDError
from attrreid_nb.data.attributes import MARKET1501, PA100K, PETA, SYSU_PAENET, CELEBA, MAT_FIELD_ORDERS
from attrreid_nb.data.readers import *

def jpg(path, ext='JPEG'):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (8, 16), (90, 30, 200)).save(path, ext)
    return path

# ---------------------------------------------------------------- Market-1501
def market(root, attributes=True):
    base = root/'Market-1501-v15.09.15'
    for folder, names in dict(bounding_box_train=['0002_c1s1_000451_03.jpg', '0007_c3s1_000101_01.jpg'],
                              query=['0003_c1s1_000201_01.jpg'],
                              bounding_box_test=['0003_c2s1_000251_01.jpg', '0000_c5s1_000001_01.jpg',
                                                 '-1_c1s1_000401_03.jpg']).items():
        for n in names: jpg(base/folder/n)
    if attributes: write_market_mat(base, {2: 0, 7: 1}, {3: 0})
    return base

def lin_sub(table, order, drop=(), short=()):
    ids = sorted(table)
    out = {n: np.array([[1 + table[p] % MARKET1501[n].n_values for p in ids]], np.uint8) for n in order if n not in drop}
    for n in short: out[n] = out[n][:, :-1]
    out['image_index'] = np.array([f"{p:04d}" for p in ids], dtype=object)[None]
    return out

def write_market_mat(base, train, test, drop=(), short=()):
    o = MAT_FIELD_ORDERS['market1501']
    scipy.io.savemat(base/'market_attribute.mat', {'market_attribute': {
        'train': lin_sub(train, o['train'], drop, short), 'test': lin_sub(test, o['test'])}})

def test_market_good(tmp_path):
    market(tmp_path)
    ds = read_dataset('market1501', tmp_path)
    assert [(r.pid, r.orig_pid, r.camid) for r in ds.train] == [(0, 2, 0), (1, 7, 2)]
    assert ds.skipped['junk image (pid -1), dropped as in torchreid'] == 1
    assert [r.pid for r in ds.gallery] == [0, 3] and ds.gallery[0].attributes is None
    assert MARKET1501.decode(ds.train[1].attributes)['age'] == 'teenager'  # id 7 got code 2 in every field
    assert 'junk image' in ds.summary()

def test_market_missing_folder(tmp_path):
    base = market(tmp_path)
    for f in (base/'query').iterdir(): f.unlink()
    (base/'query').rmdir()
    with pytest.raises(AttrReIDError, match=r'query: missing folder\nExpected layout:\n<root>/Market-1501-v15.09.15/'):
        read_market1501(tmp_path)

def test_market_malformed_filename(tmp_path):
    base = market(tmp_path)
    jpg(base/'bounding_box_train'/'0002_cam1_01.jpg')
    with pytest.raises(AttrReIDError, match=r'0002_cam1_01.jpg: malformed file name'): read_market1501(tmp_path)
    assert read_market1501(tmp_path, strict=False).skipped['malformed file name'] == 1
    (base/'bounding_box_train'/'0002_cam1_01.jpg').unlink()
    jpg(base/'query'/'0003_c7s1_000201_01.jpg')  # camera 7 does not exist in Market
    with pytest.raises(AttrReIDError, match=r'0003_c7s1_000201_01.jpg: malformed'): read_market1501(tmp_path, strict=True)

def test_market_attribute_count_mismatch(tmp_path):
    base = market(tmp_path, attributes=False)
    write_market_mat(base, {2: 0, 7: 1}, {3: 0}, drop=('hat',))
    with pytest.raises(AttrReIDError, match=r"market_attribute.mat: attribute count mismatch.*26 attribute fields, expected 27.*missing \['hat'\]"):
        read_market1501(tmp_path)
    write_market_mat(base, {2: 0, 7: 1}, {3: 0}, short=('age',))
    with pytest.raises(AttrReIDError, match=r"`market_attribute.train.age` has 1 values for 2 ids"): read_market1501(tmp_path)
    assert read_market1501(tmp_path, attributes=False).attribute_schema is None

def test_market_id_without_attributes(tmp_path):
    base = market(tmp_path, attributes=False)
    write_market_mat(base, {2: 0}, {3: 0})
    with pytest.raises(AttrReIDError, match=r'1 id\(s\) have images but no attribute labels, e.g. \[7\]'): read_market1501(tmp_path)

def test_market_attributes_required(tmp_path):
    market(tmp_path, attributes=False)
    with pytest.raises(AttrReIDError, match='market_attribute.mat: missing file'): read_market1501(tmp_path, attributes=True)

def test_market_unreadable_image(tmp_path):
    base = market(tmp_path)
    (base/'query'/'0003_c4s1_000301_01.jpg').write_bytes(b'\xff\xd8\xff garbage')
    read_market1501(tmp_path)  # lazy by default: names are fine
    with pytest.raises(AttrReIDError, match=r'1 unreadable image\(s\):\n  .*0003_c4s1_000301_01.jpg'):
        read_market1501(tmp_path, verify_images=True)
    ds = read_market1501(tmp_path, verify_images=True, strict=False)
    assert ds.skipped['unreadable image'] == 1 and len(ds.query) == 1

def test_truncated_jpeg_is_unreadable(tmp_path):
    good = jpg(tmp_path/'a.jpg')
    data = good.read_bytes(); (tmp_path/'b.jpg').write_bytes(data[:len(data) // 2])
    assert [Path(p).name for p, _ in find_unreadable_images([good, tmp_path/'b.jpg'])] == ['b.jpg']

def test_market_empty_split(tmp_path):
    base = market(tmp_path)
    for f in (base/'bounding_box_train').iterdir(): f.unlink()
    with pytest.raises(AttrReIDError, match='bounding_box_train: the train split is empty'): read_market1501(tmp_path)

def test_market_query_id_not_in_gallery(tmp_path):
    base = market(tmp_path)
    jpg(base/'query'/'0009_c2s1_000201_01.jpg')
    with pytest.raises(AttrReIDError, match=r'query: 1 query id\(s\) have no gallery image, e.g. \[9\]'): read_market1501(tmp_path)
    assert '1 query image(s) have no gallery image of their id' in read_market1501(tmp_path, strict=False, attributes=False).notes

# ---------------------------------------------------------------- SYSU-MM01 and RegDB
def sysu(root):
    base = root/'SYSU-MM01'
    for cam, ids in {1: (1, 3), 2: (2,), 3: (1, 2, 3), 4: (1, 3), 5: (2,), 6: (3,)}.items():
        for pid in ids: jpg(base/f'cam{cam}'/f'{pid:04d}'/'0001.jpg')
    (base/'exp').mkdir()
    for split, ids in (('train', '1'), ('val', '2'), ('test', '3')): (base/'exp'/f'{split}_id.txt').write_text(ids)
    attrs = {'attribute_names': list(SYSU_PAENET.names), 'labels': {f'{p:04d}': [1, 0, 0, 0, 0, 0, 0, 1] for p in (1, 2, 3)}}
    (base/'attributes.json').write_text(json.dumps(attrs))
    return base

def test_sysu_good_and_ori_data(tmp_path):
    sysu(tmp_path)
    ds = read_sysu_mm01(tmp_path)
    assert sorted({r.pid for r in ds.train}) == [0, 1] and {r.modality for r in ds.query} == {'ir'}
    assert sorted(r.camid for r in ds.gallery) == [0, 3]
    (tmp_path/'SYSU-MM01').rename(tmp_path/'ori_data'); (tmp_path/'SYSU-MM01').mkdir()
    (tmp_path/'ori_data').rename(tmp_path/'SYSU-MM01'/'ori_data')
    assert read_sysu_mm01(tmp_path).root.name == 'ori_data'

def test_sysu_broken(tmp_path):
    base = sysu(tmp_path)
    (base/'exp'/'val_id.txt').write_text('1,2')
    with pytest.raises(AttrReIDError, match=r'ids \[1\] are listed in both train_id.txt and val_id.txt'): read_sysu_mm01(tmp_path)
    (base/'exp'/'val_id.txt').write_text('2,9')
    with pytest.raises(AttrReIDError, match=r'1 listed id\(s\) have no image in any camera, e.g. \[9\]'): read_sysu_mm01(tmp_path)
    assert read_sysu_mm01(tmp_path, strict=False).skipped['listed id without images'] == 1
    (base/'exp'/'val_id.txt').write_text('two')
    with pytest.raises(AttrReIDError, match='val_id.txt: expected one line of comma-separated integer ids'): read_sysu_mm01(tmp_path)
    (base/'exp'/'val_id.txt').write_text('2')
    jpg(base/'cam1'/'0001'/'img1.jpg')
    with pytest.raises(AttrReIDError, match=r'img1.jpg: malformed file name \(expected <idx:04d>.jpg\)'): read_sysu_mm01(tmp_path)

def test_sysu_attribute_file(tmp_path):
    base = sysu(tmp_path)
    data = json.loads((base/'attributes.json').read_text())
    (base/'attributes.json').write_text(json.dumps({'attribute_names': data['attribute_names']}))
    with pytest.raises(AttrReIDError, match=r'attributes.json: JSON has no field `labels`'): read_sysu_mm01(tmp_path)
    (base/'attributes.json').write_text(json.dumps({**data, 'attribute_names': data['attribute_names'][:7]}))
    with pytest.raises(AttrReIDError, match='attribute count mismatch: 7 attribute_names'): read_sysu_mm01(tmp_path)
    data['labels']['0002'] = [1, 0]
    (base/'attributes.json').write_text(json.dumps(data))
    with pytest.raises(AttrReIDError, match='id 0002 has 2 labels, expected 8'): read_sysu_mm01(tmp_path)
    data['labels']['0002'] = [1, 0, 0, 0, 0, 0, 0, 3]
    (base/'attributes.json').write_text(json.dumps(data))
    with pytest.raises(AttrReIDError, match='id 0002: .*satchel'): read_sysu_mm01(tmp_path)
    del data['labels']['0002']
    (base/'attributes.json').write_text(json.dumps(data))
    with pytest.raises(AttrReIDError, match=r'no attribute labels, e.g. \[2\]'): read_sysu_mm01(tmp_path)

def regdb(root):
    base = root/'RegDB'; (base/'idx').mkdir(parents=True)
    for split, pids in (('train', (1, 2)), ('test', (3,))):
        for m, folder in (('visible', 'Visible'), ('thermal', 'Thermal')):
            rels = [f'{folder}/{p}/x_{i}.bmp' for p in pids for i in range(2)]
            for r in rels: jpg(base/r, 'BMP')
            (base/'idx'/f'{split}_{m}_1.txt').write_text(''.join(f'{r} {int(r.split("/")[1]) - 1}\n' for r in rels))
    return base

def test_regdb_broken(tmp_path):
    base = regdb(tmp_path)
    ds = read_regdb(tmp_path)
    assert [r.pid for r in ds.train if r.modality == 'ir'] == [0, 0, 1, 1] and ds.attribute_schema is None
    lines = (base/'idx'/'test_thermal_1.txt').read_text()
    (base/'idx'/'test_thermal_1.txt').write_text(lines + 'Thermal/3/missing.bmp 2\n')
    with pytest.raises(AttrReIDError, match=r'test_thermal_1.txt: line 3: image Thermal/3/missing.bmp does not exist'): read_regdb(tmp_path)
    assert read_regdb(tmp_path, strict=False).skipped['bad line in split file'] == 1
    (base/'idx'/'test_thermal_1.txt').write_text(lines + 'Visible/3/x_0.bmp 2\n')
    with pytest.raises(AttrReIDError, match=r"line 3 'Visible/3/x_0.bmp 2': expected 'Thermal/<pid>/<name>.bmp <label>'"): read_regdb(tmp_path)
    (base/'idx'/'test_thermal_1.txt').write_text(lines.replace(' 2\n', ' 5\n', 1))
    with pytest.raises(AttrReIDError, match='labels and identity folders disagree'): read_regdb(tmp_path)
    (base/'idx'/'test_thermal_1.txt').write_text('')
    with pytest.raises(AttrReIDError, match='test_thermal_1.txt: the test_thermal split is empty'): read_regdb(tmp_path)

# ---------------------------------------------------------------- CUHK-PEDES and ICFG-PEDES
def pedes(root, folder='CUHK-PEDES', name='reid_raw.json'):
    base = root/folder
    entries = [dict(split=s, captions=[f'a man {i}.'], file_path=f'a/{i}.jpg', id=p, processed_tokens=[['a', 'man']])
               for i, (s, p) in enumerate([('train', 1), ('train', 2), ('test', 9)])]
    for e in entries: jpg(base/'imgs'/e['file_path'])
    (base/name).write_text(json.dumps(entries))
    return base, entries

def test_pedes_json_missing_field(tmp_path):
    base, entries = pedes(tmp_path)
    del entries[1]['captions']
    (base/'reid_raw.json').write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match=r"reid_raw.json: entry 1 \(a/1.jpg\) is missing field\(s\) \['captions'\]"):
        read_cuhk_pedes(tmp_path)

def test_pedes_other_errors(tmp_path):
    base, entries = pedes(tmp_path)
    (base/'reid_raw.json').write_text('[{"split": ')
    with pytest.raises(AttrReIDError, match='reid_raw.json: invalid JSON'): read_cuhk_pedes(tmp_path)
    entries[0]['split'] = 'dev'; (base/'reid_raw.json').write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match="split 'dev'"): read_cuhk_pedes(tmp_path)
    entries[0]['split'] = 'train'; entries[0]['captions'] = []; (base/'reid_raw.json').write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match='`captions` must be a non-empty list'): read_cuhk_pedes(tmp_path)
    entries[0]['captions'] = ['x']; entries[2]['split'] = 'train'; (base/'reid_raw.json').write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match='reid_raw.json: the test split is empty'): read_cuhk_pedes(tmp_path)
    entries[2]['split'] = 'test'; entries[2]['file_path'] = 'a/gone.jpg'; (base/'reid_raw.json').write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match='entry 2: image imgs/a/gone.jpg does not exist'): read_cuhk_pedes(tmp_path)

def test_icfg_both_file_names(tmp_path):
    base, _ = pedes(tmp_path, 'ICFG-PEDES', 'ICFG-PEDES.json')
    assert read_icfg_pedes(tmp_path).meta['annotations'] == 'ICFG-PEDES.json'
    (base/'ICFG-PEDES.json').rename(base/'ICFG_PEDES.json')
    assert read_dataset('icfg-pedes', tmp_path).meta['annotations'] == 'ICFG_PEDES.json'
    (base/'ICFG_PEDES.json').unlink()
    with pytest.raises(AttrReIDError, match='neither ICFG-PEDES.json nor ICFG_PEDES.json'): read_icfg_pedes(tmp_path)

def test_word_parts(tmp_path):
    base, entries = pedes(tmp_path)
    (base/'synth_word_parts.json').write_text(json.dumps({'a/0.jpg': [[1, 2]]}))
    assert read_word_parts(tmp_path)[str(base/'imgs'/'a/0.jpg')] == [(['a', 'man'], [1, 2])]
    (base/'synth_word_parts.json').write_text(json.dumps({'a/0.jpg': [[1]]}))
    with pytest.raises(AttrReIDError, match='a/0.jpg: part labels do not match processed_tokens'): read_word_parts(tmp_path)

# ---------------------------------------------------------------- PETA, PA100K, CelebA
def peta_pickle(root, drop=None, easydict=True):
    base = root/'PETA'
    for i in range(3): jpg(base/'images'/f'{i+1:05d}.png', 'PNG')
    d = dict(image_name=[f'{i+1:05d}.png' for i in range(3)], label=np.ones((3, 105), int),
             attr_name=list(PETA.names) + [f'x{i}' for i in range(70)], label_idx=dict(eval=list(range(35))),
             partition=dict(trainval=np.array([0, 1]), train=np.array([0]), val=np.array([1]), test=np.array([2])), root='/x')
    if drop: del d[drop]
    if easydict:
        mod = types.ModuleType('easydict')
        class EasyDict(dict): pass
        EasyDict.__module__, EasyDict.__qualname__ = 'easydict', 'EasyDict'
        mod.EasyDict = EasyDict; sys.modules['easydict'] = mod
        try:
            d = EasyDict(d)
            with open(base/'dataset_all.pkl', 'wb') as f: pickle.dump(d, f)
        finally: del sys.modules['easydict']
    else:
        with open(base/'dataset_all.pkl', 'wb') as f: pickle.dump(d, f)
    return base

def test_peta(tmp_path):
    peta_pickle(tmp_path)
    ds = read_peta(tmp_path)
    assert len(ds.train) == 2 and ds.train[0].attributes == (1,) * 35 and ds.train[0].pid == NO_PID
    peta_pickle(tmp_path, drop='partition', easydict=False)
    with pytest.raises(AttrReIDError, match='dataset_all.pkl: the pickle has no field `partition`'): read_peta(tmp_path)
    (tmp_path/'PETA'/'dataset_all.pkl').write_bytes(b'not a pickle')
    with pytest.raises(AttrReIDError, match='dataset_all.pkl: cannot unpickle'): read_peta(tmp_path)

def pa100k(root, n_attr=26):
    base = root/'PA100k'
    mat = {'attributes': np.array(list(PA100K.names)[:n_attr], dtype=object)[:, None]}
    for s in ('train', 'val', 'test'):
        jpg(base/'data'/f'{s}.jpg')
        mat[f'{s}_images_name'] = np.array([f'{s}.jpg'], dtype=object)[:, None]
        mat[f'{s}_label'] = np.ones((1, 26), np.uint8)
    scipy.io.savemat(base/'annotation.mat', mat)
    return base

def test_pa100k(tmp_path):
    pa100k(tmp_path)
    assert read_pa100k(tmp_path).test[0].attributes == (1,) * 26
    pa100k(tmp_path, n_attr=25)
    with pytest.raises(AttrReIDError, match='annotation.mat: attribute count mismatch: 25 attributes, expected the 26'): read_pa100k(tmp_path)

def test_celeba_broken(tmp_path):
    base = tmp_path/'celeba'
    for i in (1, 2, 3): jpg(base/'img_align_celeba'/f'{i:06d}.jpg')
    head = f"3\n{' '.join(CELEBA.names)}\n"
    row = lambda i, v='1': f"{i:06d}.jpg " + ' '.join([v] * 40) + '\n'
    (base/'list_attr_celeba.txt').write_text(head + row(1) + row(2, '-1') + row(3))
    (base/'identity_CelebA.txt').write_text('000001.jpg 5\n000002.jpg 6\n000003.jpg 7\n')
    (base/'list_eval_partition.txt').write_text('000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n')
    ds = read_celeba(tmp_path)
    assert ds.val[0].attributes == (0,) * 40 and ds.train[0].pid == 0 and ds.test[0].pid == 7
    (base/'list_attr_celeba.txt').write_text(head + row(1) + row(2, '0') + row(3))
    with pytest.raises(AttrReIDError, match=r'list_attr_celeba.txt: line 4: expected'): read_celeba(tmp_path)
    (base/'list_attr_celeba.txt').write_text(head + row(1) + row(2))
    with pytest.raises(AttrReIDError, match='line 1 announces 3 images but 2 are listed'): read_celeba(tmp_path)
    (base/'list_attr_celeba.txt').write_text('2\n' + ' '.join(CELEBA.names) + '\n' + row(1) + row(2))
    with pytest.raises(AttrReIDError, match='000003.jpg is in list_eval_partition.txt but not in list_attr_celeba.txt'): read_celeba(tmp_path)

# ---------------------------------------------------------------- registry
def test_registry(tmp_path):
    market(tmp_path)
    assert set(available_datasets()) >= {'market1501', 'dukemtmc', 'sysu_mm01', 'regdb', 'cuhk_pedes', 'icfg_pedes',
                                         'peta', 'pa100k', 'celeba', 'lfwa'}
    assert read_dataset('Market-1501', tmp_path).name == 'market1501'
    with pytest.raises(AttrReIDError, match='argument `name`'): read_dataset('market2000', tmp_path)
    register_dataset('bad_reader', lambda root, **kw: [])
    try:
        with pytest.raises(AttrReIDError, match="returned list, expected ReIDDataset"): read_dataset('bad_reader', tmp_path)
    finally: del READERS['bad_reader']

# ---------------------------------------------------------------- SynthPeds, end to end
def test_every_reader_on_synthpeds(tmp_path):
    from attrreid_nb.data.synth import SynthConfig, make_world, write_all
    world = make_world(SynthConfig.tiny(), seed=1)
    written = write_all(world, tmp_path)
    assert set(written) <= set(available_datasets())
    for name in written:
        ds = read_dataset(name, tmp_path, verify_images=True)
        assert len(ds.train) and (len(ds.test) or (len(ds.query) and len(ds.gallery))), name
        assert len(ds.skipped) == ds.skipped['junk image (pid -1), dropped as in torchreid'], (name, ds.skipped.report())
    sysu = read_sysu_mm01(tmp_path, mode='indoor', trial=9)
    assert {r.camid for r in sysu.gallery} <= {0, 1} and {r.modality for r in sysu.query} == {'ir'}
    t2v = read_regdb(tmp_path, trial=10, direction='thermal_to_visible')
    assert {r.modality for r in t2v.query} == {'ir'} and {r.modality for r in t2v.gallery} == {'rgb'}
    assert len(read_word_parts(tmp_path)) == sum(len(s) for s in read_cuhk_pedes(tmp_path).splits().values())
