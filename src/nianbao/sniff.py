"""The old name of :mod:`nianbao.read.package`, kept so code written against it still imports."""

from nianbao.read.package import *  # noqa: F403
from nianbao.read.package import __all__  # noqa: F401
