"Bad inputs a hostile-but-fair user tries, each built by breaking a valid SynthPeds layout: every one ends in the package's error (or is counted), nothing runs code, nothing already written is lost."
import json, os, pickle, shutil, subprocess, sys, warnings
from dataclasses import replace
from pathlib import Path
import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image
from attrreid_nb.core import *
from attrreid_nb.data.attributes import DUKEMTMC, CELEBA, MAT_FIELD_ORDERS
from attrreid_nb.data.readers import *
from attrreid_nb.data.synth import SynthConfig, make_world, write_all
from attrreid_nb.learner import ResumeCheckpoint, resume_training

BIN = Path(sys.executable).parent

@pytest.fixture(scope='session')
def synth_root(tmp_path_factory):
    "Every SynthPeds layout of the tiny world, written once; tests copy what they break."
    root = tmp_path_factory.mktemp('synthpeds')
    write_all(make_world(SynthConfig.tiny(), seed=0), root)
    return root

def layout(synth_root, tmp_path, *folders):
    "A private copy of some layout folders under `tmp_path` (the data root a test breaks)."
    for f in folders: shutil.copytree(synth_root/f, tmp_path/f, symlinks=True)
    return tmp_path

class _Marker:
    "A pickle whose loading would create `path` (through os.system)."
    def __init__(self, path): self.path = str(path)
    def __reduce__(self): return (os.system, (f"touch {self.path}",))

# ---------------------------------------------------------------- nothing in a file runs code
def test_malicious_checkpoint_runs_nothing(tmp_path):
    from attrreid_nb.cli import load_checkpoint
    marker = tmp_path/'pwned'
    torch.save({'format': 'attrreid-checkpoint-v2', 'paper': 'baseline', 'model': _Marker(marker)}, tmp_path/'evil.pth')
    with pytest.raises(AttrReIDError, match=r'evil.pth: refused to load: it names the Python object (posix|os|nt).system'):
        load_checkpoint(tmp_path/'evil.pth')
    with pytest.raises(AttrReIDError, match='refused to load'): load_checkpoint_file(tmp_path/'evil.pth')
    torch.save({'model': _Marker(marker), 'epoch': 0}, tmp_path/'last.ckpt')
    with pytest.raises(AttrReIDError, match='last.ckpt: refused to load'): resume_training(None, tmp_path/'last.ckpt', 2)
    assert not marker.exists()

def test_malicious_peta_pickle_runs_nothing(synth_root, tmp_path):
    root = layout(synth_root, tmp_path/'data', 'PETA')
    marker = tmp_path/'pwned'
    pkl = root/'PETA'/'dataset_all.pkl'
    info = load_pickle(pkl)
    info['root'] = _Marker(marker)
    pkl.write_bytes(pickle.dumps(dict(info)))
    with pytest.raises(AttrReIDError, match=r'dataset_all.pkl: cannot unpickle .*refused global (posix|os|nt).system'): read_peta(root)
    assert not marker.exists()

def test_peta_pickle_still_reads(synth_root):
    ds = read_peta(synth_root)  # the allow-list covers numpy arrays, dtypes and EasyDict-style dicts
    assert len(ds.train) and len(ds.test)

# ---------------------------------------------------------------- a failed write keeps the previous file
def test_failed_writes_keep_the_previous_file(tmp_path, monkeypatch):
    save_checkpoint_file({'w': torch.arange(4.)}, tmp_path/'checkpoint.pth')
    write_json(tmp_path/'metrics.json', {'mAP': 50.0})
    real_save = torch.save
    def half_then_disk_full(obj, f, *a, **k):
        f.write(b'PK\x03\x04 half a checkpoint'); raise OSError(28, 'No space left on device')
    monkeypatch.setattr(torch, 'save', half_then_disk_full)
    with pytest.raises(AttrReIDError, match='checkpoint.pth: write failed, the previous file is unchanged'):
        save_checkpoint_file({'w': torch.zeros(4)}, tmp_path/'checkpoint.pth')
    monkeypatch.setattr(torch, 'save', real_save)
    import attrreid_nb.core as core
    def fsync_fails(fd): raise OSError(27, 'File too large')
    monkeypatch.setattr(core.os, 'fsync', fsync_fails)
    with pytest.raises(AttrReIDError, match='metrics.json: write failed'): write_json(tmp_path/'metrics.json', {'mAP': 1.0})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint_file(tmp_path/'checkpoint.pth')['w'], torch.arange(4.))
    assert json.loads((tmp_path/'metrics.json').read_text()) == {'mAP': 50.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['checkpoint.pth', 'metrics.json']  # no temporary file left

# ---------------------------------------------------------------- the command line: overwrite, resume, fail early
@pytest.fixture
def two_epoch_baseline(monkeypatch):
    from attrreid_nb.benchmark import PAPERS
    from attrreid_nb.baseline import BaselineConfig
    monkeypatch.setitem(PAPERS['baseline'].presets, 'two', lambda s: BaselineConfig.tiny(epochs=2))

def _weights(path): return load_checkpoint_file(path)['model'].state_dict()

def test_no_silent_overwrite_and_exact_resume(synth_root, tmp_path, monkeypatch, two_epoch_baseline):
    from attrreid_nb.cli import train_paper
    straight = train_paper('baseline', synth_root, preset='two', out=tmp_path/'a')
    with pytest.raises(AttrReIDError, match=r'already holds results \(checkpoint.pth, metrics.json\); pass --force'):
        train_paper('baseline', synth_root, preset='two', out=tmp_path/'a')
    real = ResumeCheckpoint.after_train
    def interrupt_after_first_epoch(self):
        real(self)
        if self.epoch == 0: raise KeyboardInterrupt
    monkeypatch.setattr(ResumeCheckpoint, 'after_train', interrupt_after_first_epoch)
    with pytest.raises(KeyboardInterrupt): train_paper('baseline', synth_root, preset='two', out=tmp_path/'b')
    monkeypatch.setattr(ResumeCheckpoint, 'after_train', real)
    assert not (tmp_path/'b'/'checkpoint.pth').exists() and (tmp_path/'b'/'resume'/'stage0.ckpt').is_file()
    with pytest.raises(AttrReIDError, match='holds an interrupted run .* pass --resume'):
        train_paper('baseline', synth_root, preset='two', out=tmp_path/'b')
    with pytest.raises(AttrReIDError, match='belongs to another run'):
        train_paper('baseline', synth_root, preset='two', seed=1, out=tmp_path/'b', resume=True)
    resumed = train_paper('baseline', synth_root, preset='two', out=tmp_path/'b', resume=True)
    assert resumed['metrics'] == straight['metrics']
    a, b = _weights(tmp_path/'a'/'checkpoint.pth'), _weights(tmp_path/'b'/'checkpoint.pth')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path/'b'/'resume').exists()
    forced = train_paper('baseline', synth_root, preset='two', out=tmp_path/'a', force=True)
    assert forced['metrics'] == straight['metrics']
    with pytest.raises(AttrReIDError, match='holds no interrupted run'):
        train_paper('baseline', synth_root, preset='two', out=tmp_path/'a', resume=True)

def test_outputs_checked_before_anything_runs(tmp_path):
    from attrreid_nb.cli import train_paper, evaluate_checkpoint
    (tmp_path/'notes.txt').write_text('a file')
    with pytest.raises(AttrReIDError, match=r'argument `out`: .*notes.txt is a file'):
        train_paper('baseline', tmp_path/'no_data_here', preset='fast', out=tmp_path/'notes.txt'/'run')
    with pytest.raises(AttrReIDError, match=r'argument `out`: the folder .*missing of eval.json does not exist'):
        evaluate_checkpoint(tmp_path/'no.pth', tmp_path, out=tmp_path/'missing'/'eval.json')

def test_corrupt_image_found_before_training(synth_root, tmp_path):
    from attrreid_nb.cli import train_paper
    root = layout(synth_root, tmp_path/'data', 'Market-1501-v15.09.15')
    victim = sorted((root/'Market-1501-v15.09.15'/'bounding_box_test').glob('0*.jpg'))[0]
    victim.write_bytes(victim.read_bytes()[:len(victim.read_bytes()) // 2])
    with pytest.raises(AttrReIDError, match=rf'1 of \d+ image\(s\) cannot be read: .*{victim.name}: truncated JPEG'):
        train_paper('baseline', root, preset='fast', out=tmp_path/'run')
    assert not list((tmp_path/'run').rglob('*.ckpt'))  # nothing was trained

def test_wrong_kind_of_dataset(synth_root, tmp_path):
    from attrreid_nb.cli import train_paper
    with pytest.raises(AttrReIDError, match=r'baseline needs an image→image ReID dataset \(e.g. market1501, dukemtmc\); '
                                            r'cuhk_pedes has no query and gallery splits'):
        train_paper('baseline', synth_root, dataset='cuhk_pedes', preset='fast', out=tmp_path/'r1')
    with pytest.raises(AttrReIDError, match=r'ssan needs a text→image dataset .*; market1501 has no captions and no a test split'):
        train_paper('ssan', synth_root, dataset='market1501', preset='fast', out=tmp_path/'r2')
    with pytest.raises(AttrReIDError, match=r'paenet needs a visible–infrared ReID dataset.*pa100k has no training images with identity labels'):
        train_paper('paenet', synth_root, dataset='pa100k', preset='fast', out=tmp_path/'r3')

def test_seed_beyond_64_bits(tmp_path):
    from attrreid_nb.cli import train_paper
    with pytest.raises(AttrReIDError, match=r'argument `seed`: expected an integer in 0..2\*\*63-1'): set_seed(2**63)
    with pytest.raises(AttrReIDError, match='argument `seed`'): train_paper('baseline', tmp_path, seed=2**64, out=tmp_path/'r')
    with pytest.raises(AttrReIDError, match='argument `seed`'): split_identities(range(5), seed=2**63)
    out = subprocess.run([str(BIN/'attrreid_synth'), 'data', '--seed', str(2**63), '--preset', 'tiny'], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith('error: argument `seed`') and 'Traceback' not in out.stderr

def test_non_ascii_names_on_a_strict_terminal(tmp_path):
    env = {**os.environ, 'PYTHONIOENCODING': 'ascii:strict', 'LC_ALL': 'C'}
    out = subprocess.run([str(BIN/'attrreid_eval'), 'modèle_é.pth', 'data'], capture_output=True, cwd=tmp_path, env=env)
    err = out.stderr.decode('ascii')
    assert out.returncode == 2 and 'Traceback' not in err and 'mod\\xe8le_\\xe9.pth' in err, err
    env['PYTHONIOENCODING'] = 'utf-8:strict'  # a file name that is not even UTF-8 (surrogate-escaped by Python)
    out = subprocess.run([str(BIN/'attrreid_eval').encode(), b'bad\xff.pth', b'data'], capture_output=True, cwd=tmp_path, env=env)
    err = out.stderr.decode('utf-8')
    assert out.returncode == 2 and 'Traceback' not in err and 'bad\\udcff.pth' in err, err

# ---------------------------------------------------------------- readers: paths that leave the dataset folder
def test_cuhk_pedes_path_escape(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'CUHK-PEDES')
    raw = root/'CUHK-PEDES'/'reid_raw.json'
    entries = json.loads(raw.read_text()); entries[1]['file_path'] = '../../../etc/passwd'
    raw.write_text(json.dumps(entries))
    with pytest.raises(AttrReIDError, match=r"reid_raw.json: entry 1: file_path '../../../etc/passwd' leaves the dataset folder"):
        read_cuhk_pedes(root)

def test_pa100k_absolute_path(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'PA100k')
    mat_path = root/'PA100k'/'annotation.mat'
    mat = scipy.io.loadmat(str(mat_path))
    names = mat['test_images_name'].copy(); names[0, 0] = np.array(['/etc/hostname'])
    mat['test_images_name'] = names
    scipy.io.savemat(mat_path, {k: v for k, v in mat.items() if not k.startswith('__')})
    with pytest.raises(AttrReIDError, match=r"annotation.mat: test_images_name entry '/etc/hostname' leaves the dataset folder"):
        read_pa100k(root)

def _rewrite_peta(root, change):
    pkl = root/'PETA'/'dataset_all.pkl'
    info = dict(load_pickle(pkl)); change(info)
    pkl.write_bytes(pickle.dumps(info))

def test_peta_path_escape_and_bad_indices(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'PETA')
    names = list(load_pickle(root/'PETA'/'dataset_all.pkl')['image_name'])
    def escape(info): info['image_name'] = ['../' + names[0]] + names[1:]
    _rewrite_peta(root, escape)
    with pytest.raises(AttrReIDError, match=r"image_name\[0\] '../.*' leaves the dataset folder"): read_peta(root)
    def negative(info):
        info['image_name'] = names; part = dict(info['partition'])
        part['test'] = np.concatenate([np.asarray(part['test']).ravel(), [-1]]); info['partition'] = part
    _rewrite_peta(root, negative)
    with pytest.raises(AttrReIDError, match=r'partition `test` holds index -1 outside 0..\d+ .*wrap round'): read_peta(root)
    def too_big(info):
        part = dict(info['partition']); part['test'] = np.array([len(names)]); info['partition'] = part
    _rewrite_peta(root, too_big)
    with pytest.raises(AttrReIDError, match=rf'partition `test` holds index {len(names)} outside'): read_peta(root)

def _faces(synth_root, root, folder, celeba=True):
    "A CelebA (or LFWA) layout made of SynthPeds images: 6 images of 3 people."
    imgs = sorted((synth_root/'Market-1501-v15.09.15'/'bounding_box_train').glob('*.jpg'))[:6]
    base = root/folder
    row = lambda name, i: f"{name} " + ' '.join('1' if (i + j) % 3 == 0 else '-1' for j in range(40)) + '\n'
    head = f"6\n{' '.join(CELEBA.names)}\n"
    if celeba:
        names = [f'{i+1:06d}.jpg' for i in range(6)]
        for n, src in zip(names, imgs): (base/'img_align_celeba').mkdir(parents=True, exist_ok=True); shutil.copy(src, base/'img_align_celeba'/n)
        (base/'list_attr_celeba.txt').write_text(head + ''.join(row(n, i) for i, n in enumerate(names)))
        (base/'identity_CelebA.txt').write_text(''.join(f"{n} {i // 2 + 1}\n" for i, n in enumerate(names)))
        (base/'list_eval_partition.txt').write_text(''.join(f"{n} {[0, 0, 0, 0, 1, 2][i]}\n" for i, n in enumerate(names)))
    else:
        names = [f'P{i // 2}/P{i // 2}_{i % 2 + 1:04d}.jpg' for i in range(6)]
        for n, src in zip(names, imgs): (base/'lfw'/n).parent.mkdir(parents=True, exist_ok=True); shutil.copy(src, base/'lfw'/n)
        (base/'list_attr_lfwa.txt').write_text(head + ''.join(row(n, i) for i, n in enumerate(names)))
    return base

def test_celeba_escape_truncation_duplicates(synth_root, tmp_path):
    base = _faces(synth_root, tmp_path, 'CelebA')
    assert len(read_celeba(tmp_path).records()) == 6
    part = (base/'list_eval_partition.txt').read_text()
    (base/'list_eval_partition.txt').write_text(''.join(part.splitlines(keepends=True)[:5]))  # the test image's line is lost
    with pytest.raises(AttrReIDError, match='list_eval_partition.txt lists 5 images but list_attr_celeba.txt lists 6'): read_celeba(tmp_path)
    (base/'list_eval_partition.txt').write_text(part + '000001.jpg 2\n')
    with pytest.raises(AttrReIDError, match=r'list_eval_partition.txt: line 7: 000001.jpg is listed twice \(first on line 1\)'): read_celeba(tmp_path)
    (base/'list_eval_partition.txt').write_text(part.replace('000002.jpg', '../000002.jpg'))
    with pytest.raises(AttrReIDError, match=r"image path '../000002.jpg' leaves the dataset folder"): read_celeba(tmp_path)
    (base/'list_eval_partition.txt').write_text(part)
    (base/'identity_CelebA.txt').write_bytes('000001.jpg 1\n000002.jpg Jos\xe9\n'.encode('latin-1'))
    with pytest.raises(AttrReIDError, match=r'identity_CelebA.txt: not UTF-8 text: byte 0xe9 on line 2'): read_celeba(tmp_path)

def test_lfwa_escape_and_links(synth_root, tmp_path):
    base = _faces(synth_root, tmp_path, 'LFWA', celeba=False)
    assert len(read_lfwa(tmp_path).records()) == 6
    text = (base/'list_attr_lfwa.txt').read_text()
    (base/'list_attr_lfwa.txt').write_text(text.replace('P0/P0_0001.jpg', '../P0_0001.jpg'))
    with pytest.raises(AttrReIDError, match=r"list_attr_lfwa.txt: image path '../P0_0001.jpg' leaves the dataset folder"): read_lfwa(tmp_path)
    (base/'list_attr_lfwa.txt').write_text(text)
    (base/'lfw'/'Loop').symlink_to(base/'lfw'/'Loop')  # a link loop among the people: counted, not a traceback
    (base/'lfw'/'P0'/'notes.txt').write_text('not an image')  # tolerated, and counted
    ds = read_lfwa(tmp_path)
    assert ds.skipped['broken link or link loop'] == 1 and ds.skipped['image without attribute labels'] == 1
    with pytest.raises(AttrReIDError, match='argument `seed`'): read_lfwa(tmp_path, seed=2**63)

# ---------------------------------------------------------------- readers: duplicates, links, encodings
def test_sysu_duplicate_ids_and_encoding(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'SYSU-MM01')
    exp = root/'SYSU-MM01'/'exp'
    ids = exp/'test_id.txt'; text = ids.read_text().strip()
    first = text.split(',')[0]
    ids.write_text(text + ',' + first)
    with pytest.raises(AttrReIDError, match=rf"test_id.txt: id\(s\) \[{int(first)}\] are listed more than once"): read_sysu_mm01(root)
    ids.write_bytes(text.encode() + b',\xff\xfe')
    with pytest.raises(AttrReIDError, match='test_id.txt: not UTF-8 text: byte 0xff'): read_sysu_mm01(root)
    with pytest.raises(AttrReIDError, match='argument `trial`'): read_sysu_mm01(root, trial=2**63)

def test_regdb_duplicate_line(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'RegDB')
    lst = root/'RegDB'/'idx'/'test_thermal_1.txt'
    lines = lst.read_text().splitlines()
    lst.write_text('\n'.join(lines + [lines[0]]) + '\n')
    with pytest.raises(AttrReIDError, match=rf"test_thermal_1.txt: line {len(lines) + 1}: {lines[0].split()[0]} is listed twice \(first on line 1\)"):
        read_regdb(root)
    ds = read_regdb(root, strict=False)
    assert ds.skipped['duplicate line in split file'] == 1 and len(ds.query) + len(ds.gallery) > 0

def test_market_link_loop_and_non_image(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'Market-1501-v15.09.15')
    gallery = root/'Market-1501-v15.09.15'/'bounding_box_test'
    (gallery/'0001_c1s1_000001_01.jpg').symlink_to(gallery/'0001_c1s1_000001_01.jpg')
    with pytest.raises(AttrReIDError, match=r'0001_c1s1_000001_01.jpg: a symbolic link that leads nowhere \(broken, or a loop\)'):
        read_market1501(root)
    (gallery/'Thumbs.db').write_bytes(b'\0' * 8)
    ds = read_market1501(root, strict=False)
    assert ds.skipped['broken link or link loop'] == 1 and ds.skipped['not a .jpg file'] == 1
    assert 'not a .jpg file' in ds.summary()
    (root/'Market-1501-v15.09.15'/'query').rename(root/'q'); (root/'Market-1501-v15.09.15'/'query').symlink_to('query')
    with pytest.raises(AttrReIDError, match=r'query: missing folder \(a symbolic link that leads nowhere'): read_market1501(root)

def test_cuhk_pedes_non_utf8(synth_root, tmp_path):
    root = layout(synth_root, tmp_path, 'CUHK-PEDES')
    raw = root/'CUHK-PEDES'/'reid_raw.json'
    raw.write_bytes(raw.read_bytes().replace(b'"captions": ["', b'"captions": ["caf\xe9 ', 1))
    with pytest.raises(AttrReIDError, match=r'reid_raw.json: not UTF-8 text: byte 0xe9'): read_cuhk_pedes(root)

# ---------------------------------------------------------------- the published Duke quirk
def _lin_struct(table, order, schema):
    ids = sorted(table)
    out = {n: np.array([[table[p].get(n, 1 + p % schema[n].n_values) for p in ids]], np.uint8) for n in order}
    out['image_index'] = np.array([f"{p:04d}" for p in ids], dtype=object)[None]
    return out

def test_duke_unlabelled_top(synth_root, tmp_path):
    "DukeMTMC-attribute's duke_attribute.mat: train.top = 0 for ids 0370 and 0679, every other code 1 or 2."
    src = synth_root/'Market-1501-v15.09.15'
    base = tmp_path/'DukeMTMC-reID'
    shutil.copytree(src, base, ignore=shutil.ignore_patterns('*.mat'))
    train_ids = sorted({int(p.name[:4]) for p in (base/'bounding_box_train').glob('*.jpg')})
    for old, new in zip(train_ids[:2], (370, 679)):  # two training identities become 0370 and 0679
        for p in (base/'bounding_box_train').glob(f'{old:04d}_*.jpg'): p.rename(p.with_name(f'{new:04d}' + p.name[4:]))
    train_ids = sorted({int(p.name[:4]) for p in (base/'bounding_box_train').glob('*.jpg')})
    test_ids = sorted({int(p.name[:4]) for p in (base/'bounding_box_test').glob('*.jpg') if p.name[:4] not in ('0000', '-1_c')} |
                      {int(p.name[:4]) for p in (base/'query').glob('*.jpg')})
    train = {p: ({'top': 0} if p in (370, 679) else {}) for p in train_ids}
    o = MAT_FIELD_ORDERS['dukemtmc']
    scipy.io.savemat(base/'duke_attribute.mat', {'duke_attribute': {
        'train': _lin_struct(train, o['train'], DUKEMTMC), 'test': _lin_struct({p: {} for p in test_ids}, o['test'], DUKEMTMC)}})
    with pytest.warns(UserWarning, match=r'2 attribute value\(s\) coded 0 \(unlabelled\) in duke_attribute.mat are unknown'):
        ds = read_dukemtmc(tmp_path)
    assert ds.meta['unknown_attribute_values'] == 2 and any('train.top of id 0370' in n for n in ds.notes)
    top = list(DUKEMTMC.names).index('top')
    tops = {r.orig_pid: r.attributes[top] for r in ds.train}
    assert tops[370] == tops[679] == UNKNOWN and all(v in (0, 1) for p, v in tops.items() if p not in (370, 679))
    train[train_ids[-1]] = {'top': 3}  # a code outside 0..2 is still an error
    scipy.io.savemat(base/'duke_attribute.mat', {'duke_attribute': {
        'train': _lin_struct(train, o['train'], DUKEMTMC), 'test': _lin_struct({p: {} for p in test_ids}, o['test'], DUKEMTMC)}})
    with pytest.raises(AttrReIDError, match=r'`duke_attribute.train.top` holds codes outside 1..2'), warnings.catch_warnings():
        warnings.simplefilter('ignore'); read_dukemtmc(tmp_path)
