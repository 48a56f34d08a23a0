__version__ = "0.1.0"

import warnings as _warnings
# fastai's import calls `torch.jit.script`, which torch >= 2.9 answers with a FutureWarning the user can do nothing
# about; it would open every notebook page and bury command-line output, so it is silenced before fastai loads
_warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
