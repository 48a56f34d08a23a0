"End-to-end checks of the install and the project files: things that do not belong in a notebook."
import configparser, json, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))

def _settings():
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT']

def test_settings_nbdev_keys():
    s = _settings()
    assert s['lib_name'] == 'attrreid_nb'
    assert s['tst_flags'].split() == ['notest', 'slow', 'cuda'], "nbdev 2 splits tst_flags on whitespace"
    assert s['clear_all'] == 'False' and s['readme_nb'] == 'index.ipynb'

def _pins_in_environment_yml():
    lines = (ROOT/'environment.yml').read_text().splitlines()
    return [m.group(1) for l in lines if (m := re.match(r'\s+- "([^"]+)"\s*$', l)) and m.group(1) != '-e .']

def test_environment_yml_matches_settings_ini():
    s = _settings()
    pins = s['pip_requirements'].split() + s['requirements'].split() + s['dev_requirements'].split()
    assert sorted(_pins_in_environment_yml()) == sorted(pins)
    assert '"-e ."' in (ROOT/'environment.yml').read_text(), "environment.yml must install the project itself"

def test_required_pins_present():
    s = _settings()
    every = ' '.join(s[k] for k in ('requirements', 'pip_requirements', 'dev_requirements'))
    for pkg in ['torch', 'torchvision', 'fastai', 'nbdev', 'jupyterlab', 'matplotlib', 'seaborn', 'scikit-learn', 'pytest']:
        assert re.search(rf'(^|\s){re.escape(pkg)}[<>=!]', every), f"{pkg} is not pinned in settings.ini"
    assert 'nbdev>=2.4,<3' in every and 'fastai==2.8.7' in every

NO_NETWORK = """
import socket
def _refuse(*a, **k): raise OSError('network access attempted during import')
socket.socket.connect = _refuse; socket.create_connection = _refuse; socket.getaddrinfo = _refuse
import importlib, attrreid_nb
from attrreid_nb._modidx import d
for mod in sorted(d['syms']): importlib.import_module(mod)
print('imported', attrreid_nb.__version__)
"""

def test_package_imports_without_network():
    out = subprocess.run([sys.executable, '-c', NO_NETWORK], capture_output=True, text=True, cwd='/')
    assert out.returncode == 0, out.stderr
    assert 'imported 0.1.0' in out.stdout

def test_library_in_sync_with_notebooks():
    from sync_check import out_of_sync
    assert out_of_sync(ROOT) == []

def test_readme_opens_with_two_commands():
    text = (ROOT/'README.md').read_text()
    first_block = re.search(r'```bash\n(.*?)```', text, re.S).group(1).strip().splitlines()
    assert first_block == ['make reproduce', 'make test']
    assert 'make test' in (ROOT/'.ci'/'run').read_text()
