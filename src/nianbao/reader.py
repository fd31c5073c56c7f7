"""The old name of :mod:`nianbao.read.reader`, kept so code written against it still imports."""

from nianbao.read.reader import *  # noqa: F403
from nianbao.read.reader import __all__  # noqa: F401
