"""embedkit: build, import, store, search and use word embeddings.

The user-facing objects are :class:`Vectors` (words and their rows) and, for FAISS search,
``embedkit.index.Index``. Stores are single HDF5 files (:func:`load`, :func:`save`).
"""

__version__ = "0.1.0"

from embedkit import workspace  # noqa: E402  (embedkit.workspace.open_set works after `import embedkit`)
from embedkit.errors import EmbedkitError  # noqa: E402
from embedkit.store import load, save  # noqa: E402
from embedkit.vectors import Coverage, Vectors  # noqa: E402

__all__ = ["Coverage", "EmbedkitError", "Vectors", "__version__", "load", "save", "workspace"]
