"""Write README.md from nbs/index.ipynb without Quarto.

nbdev's own `nbdev_readme` renders through Quarto, which cannot be installed everywhere; this keeps the same
contract (the README *is* the index notebook) with plain Python: markdown cells verbatim, visible code cells as
fenced Python, their text and markdown outputs after them, `#| hide` cells left out.
"""
import json, sys
from pathlib import Path

HEADER = "<!-- Generated from nbs/index.ipynb by `make readme`; edit the notebook, not this file. -->\n\n"

def _directives(src):
    return [l.strip()[2:].strip() for l in src.splitlines() if l.strip().startswith('#|')]

def _is_hidden(src):
    return any(d.split(':')[0].strip() in ('hide', 'include') and ('false' in d or d.startswith('hide'))
               for d in _directives(src))

def _output_text(out):
    if out.get('output_type') == 'stream':  # stderr carries library warnings, not content
        return (None, None) if out.get('name') == 'stderr' else (''.join(out['text']), 'text')
    data = out.get('data', {})
    if any(k.startswith('image/') for k in data): return None, None  # a figure: the README is text; the docs page shows it
    if 'text/markdown' in data: return ''.join(data['text/markdown']), 'markdown'
    if 'text/plain' in data: return ''.join(data['text/plain']), 'text'
    return None, None

def notebook_to_markdown(nb_path):
    "The README text for the notebook at `nb_path`."
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = [HEADER]
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            parts.append(src.strip() + '\n\n')
            continue
        if cell['cell_type'] != 'code' or _is_hidden(src): continue
        code = '\n'.join(l for l in src.splitlines() if not l.strip().startswith('#|')).strip()
        echo_off = any(d.replace(' ', '') == 'echo:false' for d in _directives(src))
        if code and not echo_off: parts.append(f"```python\n{code}\n```\n\n")
        for out in cell.get('outputs', []):
            text, kind = _output_text(out)
            if not text: continue
            parts.append(text.strip() + '\n\n' if kind == 'markdown' else f"```\n{text.rstrip()}\n```\n\n")
    return ''.join(parts).rstrip() + '\n'

def main(root='.'):
    root = Path(root)
    (root/'README.md').write_text(notebook_to_markdown(root/'nbs'/'index.ipynb'), encoding='utf-8')

if __name__ == '__main__': main(*sys.argv[1:])
