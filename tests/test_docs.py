"""The docs a newcomer reads: every page's HTML preview opened in headless Chromium shows its figures and no Python
error, the sidebar lists every notebook in reading order, and every exported function and class has a docstring.

Quarto cannot be installed everywhere, so the pages are rendered with `jupyter nbconvert --to html` (what
`make docs` writes to `_preview/` when Quarto is missing): the same executed outputs the docs site shows."""
import functools, http.server, importlib, inspect, json, os, pkgutil, re, shutil, subprocess, sys, threading
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))


def test_every_exported_symbol_is_documented():
    import attrreid_nb
    missing = []
    for mod in pkgutil.walk_packages(attrreid_nb.__path__, 'attrreid_nb.'):
        if mod.name.endswith('_modidx'): continue
        m = importlib.import_module(mod.name)
        for name in getattr(m, '__all__', []):
            obj = getattr(m, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == m.__name__ and not (obj.__doc__ or '').strip():
                missing.append(f"{m.__name__}.{name}")
    assert not missing, f"exported without a docstring: {missing}"


def test_every_page_opens_with_its_title_and_summary():
    "The first thing a page shows (after the hidden `default_exp`) is `# Title` and a `> summary`, before any code."
    late = []
    for p in NOTEBOOKS:
        cells = [c for c in json.loads(p.read_text())['cells'] if not ''.join(c['source']).startswith('#| default_exp')]
        first = ''.join(cells[0]['source'])
        if not (cells[0]['cell_type'] == 'markdown' and first.startswith('# ') and re.search(r'^> \S', first, re.M)): late.append(p.name)
    assert not late, f"pages that do not open with their title and summary: {late}"


def test_sidebar_lists_every_notebook_in_reading_order():
    sidebar = (NBS/'sidebar.yml').read_text()
    listed = [line.strip()[2:] for line in sidebar.splitlines() if line.strip().startswith('- ') and line.strip().endswith('.ipynb')]
    # reading order: the landing page, then the numbered notebooks (the numbers are the order)
    expected = ['index.ipynb'] + [p.name for p in NOTEBOOKS if p.name != 'index.ipynb']
    assert listed == expected, f"nbs/sidebar.yml must list {expected} (custom_sidebar = True in settings.ini)"


def _browser():
    "A headless Chromium driven by Selenium, or a skip (a failure in CI, where .ci/run installs it)."
    chromium, driver = shutil.which('chromium') or shutil.which('chromium-browser'), shutil.which('chromedriver')
    try: from selenium import webdriver
    except ImportError: webdriver = None
    if not (chromium and driver and webdriver):
        msg = "headless Chromium test needs chromium, chromedriver and selenium (.ci/run installs them)"
        if os.environ.get('CI'): pytest.fail(msg)
        pytest.skip(msg)
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    # the flags the machine's closed network needs (no background connections), as root (no sandbox)
    for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync'):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts)


@pytest.fixture(scope='module')
def preview(tmp_path_factory):
    "Render every notebook to HTML (as `make docs` does without Quarto) and serve the folder on localhost."
    out = tmp_path_factory.mktemp('preview')
    subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'html', '--log-level', 'ERROR',
                    '--output-dir', str(out), *map(str, NOTEBOOKS)], check=True, cwd=ROOT)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", out
    server.shutdown()


# What no recorded output may show: the machine it ran on (temporary folders, home folders, the virtual environment)
# or a library's deprecation warning. The same pattern runs on the notebooks' JSON and inside the rendered pages.
LEAK = r"(/tmp/|/root/|/home/[^/\s]+/|/Users/|/work/|site-packages|\.venv/|FutureWarning|DeprecationWarning)"

# Runs in the page: images that did not load, error outputs (tracebacks), and leaks among the rendered outputs.
PAGE_CHECK = """
const broken = Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120));
const errors = Array.from(document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"], .output_error, .output_stderr'))
  .map(e => e.innerText).filter(t => /Traceback \\(most recent call last\\)|^\\s*\\w+(Error|Exception):/m.test(t)).map(t => t.slice(0, 300));
const leak = new RegExp(arguments[0]);
const leaks = Array.from(document.querySelectorAll('.jp-OutputArea-output, .output_area'))
  .map(e => e.innerText).filter(t => leak.test(t)).map(t => t.match(leak)[0] + ' in ' + t.slice(0, 200));
return {images: document.images.length, broken: broken, errors: errors, leaks: leaks, title: document.title};
"""


def _output_texts(nb:dict):
    "Every recorded output's text of a notebook, with its cell id."
    for cell in nb['cells']:
        for o in cell.get('outputs', []):
            data = o.get('data', {})
            yield cell.get('id'), ''.join(o.get('text', '')) + ''.join(data.get('text/plain', '')) + ''.join(data.get('text/html', '')) \
                + '\n'.join(o.get('traceback', []))


def _leaks(nb:dict):
    return [f"cell {cid}: ...{t[max(0, m.start() - 60):m.end() + 40]!r}..." for cid, t in _output_texts(nb) for m in [re.search(LEAK, t)] if m]


def test_recorded_outputs_show_no_machine_paths_or_deprecation_warnings():
    problems = [f"{p.name} {leak}" for p in NOTEBOOKS for leak in _leaks(json.loads(p.read_text()))]
    assert not problems, "recorded outputs a reader should not see:\n" + '\n'.join(problems)


def test_the_leak_check_can_fail():
    nb = {'cells': [{'id': 'a', 'outputs': [{'output_type': 'stream', 'text': ['saved to /tmp/asmr_smoke_x1/runs.csv\n']}]},
                    {'id': 'b', 'outputs': [{'output_type': 'stream', 'text': ['x.py:3: FutureWarning: `torch.jit.script` is deprecated\n']}]},
                    {'id': 'c', 'outputs': [{'output_type': 'execute_result', 'data': {'text/plain': ["PosixPath('/home/ann/.attrreid')"]}}]},
                    {'id': 'd', 'outputs': [{'output_type': 'stream', 'text': ['R1 = 21.3 on 2 workers; nbs/results/asmr_runs.csv\n']}]}]}
    assert [l.split(':')[0] for l in _leaks(nb)] == ['cell a', 'cell b', 'cell c']


def test_every_preview_page_shows_its_figures_and_no_error(preview):
    base, folder = preview
    pages = sorted(p.name for p in folder.glob('*.html'))
    assert len(pages) == len(NOTEBOOKS), f"nbconvert wrote {len(pages)} pages for {len(NOTEBOOKS)} notebooks"
    browser = _browser()
    problems, n_images = [], 0
    try:
        browser.set_page_load_timeout(120)
        for page in pages:
            browser.get(f"{base}/{page}")
            r = browser.execute_script(PAGE_CHECK, LEAK)
            n_images += r['images']
            if r['broken']: problems.append(f"{page}: {len(r['broken'])} image(s) did not load, e.g. {r['broken'][0]}")
            if r['errors']: problems.append(f"{page}: Python error output: {r['errors'][0]!r}")
            if r['leaks']: problems.append(f"{page}: a machine path or deprecation warning in an output: {r['leaks'][0]!r}")
    finally: browser.quit()
    assert not problems, '\n'.join(problems)
    assert n_images > 20, f"only {n_images} images in the whole preview: the figures are missing"


def test_the_page_check_catches_a_broken_image_and_a_traceback(preview, tmp_path):
    "The check above must be able to fail: a page with a missing image and an error output is caught."
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('![missing](no_such_figure.png)'),
                nbformat.v4.new_code_cell('1/0', outputs=[nbformat.v4.new_output(
                    'error', ename='ZeroDivisionError', evalue='division by zero',
                    traceback=['Traceback (most recent call last)', 'ZeroDivisionError: division by zero'])]),
                nbformat.v4.new_code_cell('import warnings', outputs=[nbformat.v4.new_output(
                    'stream', name='stderr', text='/work/x/.venv/lib/site.py:3: FutureWarning: deprecated\n')])]
    base, folder = preview
    nbformat.write(nb, tmp_path/'bad.ipynb')
    subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'html', '--log-level', 'ERROR',
                    '--output-dir', str(folder), str(tmp_path/'bad.ipynb')], check=True)
    browser = _browser()
    try:
        browser.get(f"{base}/bad.html")
        r = browser.execute_script(PAGE_CHECK, LEAK)
    finally:
        browser.quit(); (folder/'bad.html').unlink()
    assert len(r['broken']) == 1 and 'no_such_figure.png' in r['broken'][0]
    assert len(r['errors']) == 1 and 'ZeroDivisionError' in r['errors'][0]
    assert len(r['leaks']) == 1 and '/work/' in r['leaks'][0]


def test_readme_generator_keeps_text_and_drops_figures(tmp_path):
    "README.md is text: a figure's `<Figure ...>` placeholder never reaches it; printed tables and markdown do."
    sys.path.insert(0, str(ROOT/'tools'))
    try: from make_readme import notebook_to_markdown
    finally: sys.path.pop(0)
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('# Title\n> summary'),
                nbformat.v4.new_code_cell('plot()', outputs=[nbformat.v4.new_output(
                    'display_data', data={'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure size 700x1380 with 1 Axes>'})]),
                nbformat.v4.new_code_cell('table', outputs=[nbformat.v4.new_output('execute_result', data={'text/plain': 'R1 71.7'})])]
    nbformat.write(nb, tmp_path/'index.ipynb')
    text = notebook_to_markdown(tmp_path/'index.ipynb')
    assert '<Figure' not in text and 'R1 71.7' in text and text.count('```python') == 2
