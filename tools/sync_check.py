"""Fail when `nbdev_export`, `nbdev_clean` or the README build would change anything.

Works on a scratch copy, so it never touches the working tree and gives the same answer whether or not the
tree is committed. Exit status 1 and a list of the files that would change when out of sync.
"""
import filecmp, os, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKED = ['settings.ini', 'README.md', 'nbs', 'attrreid_nb', 'tools']

def _bin(name):
    "The console script `name` next to the running interpreter, so the project's venv is used."
    cand = Path(sys.executable).parent/name
    return str(cand) if cand.exists() else name

def _files(root):
    return {str(p.relative_to(root)) for d in ('nbs', 'attrreid_nb') for p in (root/d).rglob('*')
            if p.is_file() and '__pycache__' not in p.parts and '.ipynb_checkpoints' not in p.parts} | {'README.md'}

def out_of_sync(root=ROOT):
    "Files (relative paths) that exporting, cleaning or rebuilding the README would add, remove or change."
    root = Path(root)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in TRACKED:
            src = root/name
            if src.is_dir(): shutil.copytree(src, tmp/name, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
            elif src.exists(): shutil.copy2(src, tmp/name)
        env = {**os.environ, 'PYTHONDONTWRITEBYTECODE': '1'}
        for cmd in ([_bin('nbdev_export')], [_bin('nbdev_clean')], [sys.executable, 'tools/make_readme.py']):
            subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True)
        before, after = _files(root), _files(tmp)
        changed = sorted(before ^ after)
        changed += sorted(f for f in before & after if not filecmp.cmp(root/f, tmp/f, shallow=False))
        return changed

if __name__ == '__main__':
    changed = out_of_sync()
    if changed:
        print("notebooks and library are not in sync: `nbdev_export`, `nbdev_clean` or `make readme` would change:")
        for f in changed: print("  ", f)
        print("Run `make export` and commit the result.")
        sys.exit(1)
    print("notebooks, library and README are in sync")
