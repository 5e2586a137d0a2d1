"""The conformance kit's tests, one module per area of the contract.

Each module holds one or two classes of tests: the storage side (a
``Backend`` or ``EventBridge`` used directly) and, where the area has one,
the application side (a ``Kit`` with worker threads). ``..contracts``
gathers them into the classes a plugin's tests subclass.
"""
